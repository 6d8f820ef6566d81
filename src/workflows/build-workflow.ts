// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
/**
 * One build workflow (`azure-build.yml`...) as a plain object, from the catalog. Inputs, job names and
 * runner choices follow the upstream workflows; every value reaches scripts through `env:`, actions are
 * pinned by commit, and the workflow token gets no permission a job does not need.
 */
import { type Arch, isKitten, type Version, WORKFLOWS, type WorkflowId } from "../catalog/catalog.js";
import {
  DEFAULT_TEMPLATES_REPOSITORY,
  LEG_MANIFEST_ARTIFACT,
  SHARED_ACTION_DIR,
  TEMPLATES_DIR,
  TOOL_DIR,
} from "./layout.js";
import { type ArchMatrixSpec, archMatrixSpec } from "./matrix-spec.js";
import { ACTIONS, uses } from "./pins.js";
import { checkoutTool, installToolSteps, TOOL_CLI } from "./tool-steps.js";

type Obj = Record<string, unknown>;

/** RunsOn (the AlmaLinux org's AWS runners) for x86_64 legs; GitHub-hosted elsewhere. */
const X86_64_RUNS_ON =
  "${{ github.repository_owner == 'AlmaLinux' && " +
  "format('runs-on={0}/family=c7i.metal-24xl+c7a.metal-48xl+*8gd.metal*/image=ubuntu24-full-x64', github.run_id) " +
  "|| 'ubuntu-24.04' }}";

/**
 * RunsOn a1.metal in the org, with a 40 GB volume (the default one runs out of space: upstream
 * a79d9d0); elsewhere the ephemeral EC2 runner, labelled with the run id.
 */
const AARCH64_RUNS_ON =
  "${{ github.repository_owner == 'AlmaLinux' && " +
  "format('runs-on={0}/family=a1.metal/image=almalinux-9-aarch64/volume=40g', github.run_id) || github.run_id }}";

const EC2_RUNNER_TAGS = JSON.stringify([{ Key: "Project", Value: "GitHub Actions Self-hosted Runners" }]);

/** How the version is spoken of in run names: `10-kitten` is "Kitten 10". */
function versionLabel(version: Version): string {
  return isKitten(version) ? "Kitten 10" : version;
}

function runName(id: WorkflowId): string {
  const info = WORKFLOWS[id];
  const prefix = info.name.split(":")[0];
  const relabelled = info.versions.filter((v) => versionLabel(v) !== v);
  const expr = [
    ...relabelled.map((v) => `inputs.version_major == '${v}' && '${versionLabel(v)}'`),
    "inputs.version_major",
  ].join(" || ");
  return `${prefix}: AlmaLinux \${{ ${expr} }} Build Image`;
}

function dispatchInputs(id: WorkflowId): Obj {
  const info = WORKFLOWS[id];
  const flag = (description: string, value: boolean) => ({
    description,
    required: true,
    type: "boolean",
    default: value,
  });
  return {
    date_time_stamp: {
      description: "Custom date+time stamp, YYYYMMDDhhmmss (empty: now, UTC)",
      required: false,
      type: "string",
      default: "",
    },
    version_major: {
      description: "AlmaLinux major version",
      required: true,
      type: "choice",
      options: [...info.versions],
      default: info.defaultVersion,
    },
    "self-hosted": flag("Build aarch64 images on self-hosted runners", true),
    store_as_artifact: flag("Store images to the workflow Artifacts", false),
    // upstream runs its boot tests (gencloud-build-test, opennebula-build-test) for these two only
    run_test: flag(
      "Boot each image in QEMU and test it before publishing",
      id === "gencloud" || id === "opennebula",
    ),
    upload_to_s3: flag("Upload to S3 Bucket", true),
    notify_mattermost: flag("Send notification to Mattermost", true),
  };
}

/** A single-quoted expression string holding JSON; objects keep their entry order (versions newest first). */
function jsonLiteral(value: readonly string[] | ReadonlyMap<string, readonly string[]>): string {
  const json =
    value instanceof Map
      ? `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`
      : JSON.stringify(value);
  // The JSON sits in a single-quoted expression string; catalog names never contain quotes.
  if (json.includes("'")) throw new Error(`catalog value with a quote cannot go into an expression: ${json}`);
  return `'${json}'`;
}

function matrixOf(spec: ArchMatrixSpec): Obj {
  const matrix: Obj = {};
  if (spec.types.length > 1) matrix.subtype = [...spec.types];
  matrix.variant = `\${{ fromJSON(${jsonLiteral(spec.variantsByVersion)})[inputs.version_major] }}`;
  if (spec.exclude.length > 0) matrix.exclude = spec.exclude.map((e) => ({ ...e }));
  return matrix;
}

/** The job condition: only versions that have legs on this arch (and, for aarch64, self-hosted runs). */
function jobCondition(spec: ArchMatrixSpec, selfHosted: boolean): string | undefined {
  const parts = selfHosted ? ["inputs.self-hosted"] : [];
  if (!spec.everyVersion) {
    parts.push(`contains(fromJSON(${jsonLiteral(spec.versionsWithLegs)}), inputs.version_major)`);
  }
  return parts.length > 0 ? `\${{ ${parts.join(" && ")} }}` : undefined;
}

/** `${{ matrix.variant }} gencloud-x86_64 image` or, with several types, `... ${{ matrix.subtype }}-...`. */
function legTitle(spec: ArchMatrixSpec, what: string): string {
  const type = spec.types.length > 1 ? "${{ matrix.subtype }}" : spec.types[0];
  return `\${{ matrix.variant }} ${type}-${spec.arch} ${what}`;
}

function checkoutTemplates(): Obj {
  return {
    name: "Check out the Packer templates",
    uses: uses(ACTIONS.checkout),
    with: {
      repository: `\${{ vars.TEMPLATES_REPOSITORY || '${DEFAULT_TEMPLATES_REPOSITORY}' }}`,
      ref: "${{ vars.TEMPLATES_REF }}",
      path: TEMPLATES_DIR,
      "persist-credentials": false,
    },
  };
}

function initDataJob(): Obj {
  return {
    name: "Initialize common data",
    "runs-on": "ubuntu-24.04",
    permissions: { contents: "read" },
    outputs: {
      time_stamp: "${{ steps.stamp.outputs.time_stamp }}",
      date_stamp: "${{ steps.stamp.outputs.date_stamp }}",
    },
    steps: [
      ...installToolSteps(),
      {
        name: "Date+time stamp",
        id: "stamp",
        env: { DATE_TIME_STAMP: "${{ inputs.date_time_stamp }}" },
        run: `${TOOL_CLI} stamp --date-time-stamp="$DATE_TIME_STAMP" --github\n`,
      },
    ],
  };
}

function buildJob(spec: ArchMatrixSpec, selfHosted: boolean): Obj {
  const type = spec.types.length > 1 ? "${{ matrix.subtype }}" : spec.types[0];
  const job: Obj = { name: legTitle(spec, "image") };
  const condition = jobCondition(spec, selfHosted);
  if (condition) job.if = condition;
  job.needs = selfHosted ? ["init-data", "start-self-hosted-runner"] : ["init-data"];
  job.permissions = { "id-token": "write", contents: "read" };
  job["runs-on"] = selfHosted ? AARCH64_RUNS_ON : X86_64_RUNS_ON;
  job.strategy = { "fail-fast": false, matrix: matrixOf(spec) };
  job.steps = [
    checkoutTool(),
    checkoutTemplates(),
    {
      name: legTitle(spec, "image"),
      uses: `./${TOOL_DIR}/${SHARED_ACTION_DIR}`,
      with: {
        type,
        variant: "${{ matrix.variant }}",
        arch: spec.arch,
        time_stamp: "${{ needs.init-data.outputs.time_stamp }}",
        templates: TEMPLATES_DIR,
        S3_ACCESS_KEY_ID: "${{ secrets.AWS_ACCESS_KEY_ID }}",
        S3_SECRET_ACCESS_KEY: "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        AWS_REGION: "${{ vars.AWS_REGION }}",
        AWS_S3_BUCKET: "${{ vars.AWS_S3_BUCKET }}",
        MATTERMOST_WEBHOOK_URL: "${{ secrets.MATTERMOST_WEBHOOK_URL }}",
        MATTERMOST_CHANNEL: "${{ vars.MATTERMOST_CHANNEL }}",
        PACKER_GITHUB_API_TOKEN: "${{ secrets.GIT_HUB_TOKEN }}",
        packer_cpus: "${{ vars.PACKER_CPUS }}",
        store_as_artifact: "${{ inputs.store_as_artifact }}",
        run_test: "${{ inputs.run_test }}",
        upload_to_s3: "${{ inputs.upload_to_s3 }}",
        notify_mattermost: "${{ inputs.notify_mattermost }}",
      },
    },
  ];
  return job;
}

/**
 * One ephemeral EC2 runner per aarch64 leg (each takes exactly one job), outside the AlmaLinux org;
 * inside it the step is skipped and RunsOn provides the runners.
 */
function runnerJob(spec: ArchMatrixSpec): Obj {
  const job: Obj = { name: legTitle(spec, "runner") };
  job.if = jobCondition(spec, true);
  job.needs = ["init-data"];
  job.permissions = {};
  job["runs-on"] = "ubuntu-24.04";
  job.strategy = { "fail-fast": false, matrix: matrixOf(spec) };
  job.steps = [
    {
      name: "Setup and start runner",
      if: "github.repository_owner != 'AlmaLinux'",
      uses: uses(ACTIONS.ec2Runner),
      with: {
        github_token: "${{ secrets.GIT_HUB_TOKEN }}",
        aws_access_key_id: "${{ secrets.AWS_ACCESS_KEY_ID }}",
        aws_secret_access_key: "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        aws_region: "${{ vars.AWS_REGION }}",
        ec2_ami_id: "${{ secrets.EC2_AMI_ID_AL9_AARCH64 }}",
        ec2_subnet_id: "${{ secrets.EC2_SUBNET_ID }}",
        ec2_security_group_id: "${{ secrets.EC2_SECURITY_GROUP_ID }}",
        ec2_instance_type: "a1.metal",
        ec2_root_disk_size_gb: "16",
        ec2_root_disk_ebs_class: "gp3",
        ec2_instance_ttl: "30",
        ec2_spot_instance_strategy: "None",
        ec2_instance_tags: EC2_RUNNER_TAGS,
      },
    },
  ];
  return job;
}

/** The job that builds an arch's legs (a matrix, one leg per entry). */
export const BUILD_JOBS: Readonly<Record<Arch, string>> = {
  x86_64: "build-gh-hosted",
  aarch64: "build-self-hosted",
};

/**
 * The jobs that build the legs of workflow `id`, by name: the x86_64 matrix, and the aarch64 runners
 * and matrix. A job that must follow every leg `needs` the build jobs among these keys.
 */
export function legJobs(id: WorkflowId): Obj {
  const x86 = archMatrixSpec(id, "x86_64");
  const arm = archMatrixSpec(id, "aarch64");
  const jobs: Obj = {};
  if (x86.versionsWithLegs.length > 0) jobs[BUILD_JOBS.x86_64] = buildJob(x86, false);
  if (arm.versionsWithLegs.length > 0) {
    jobs["start-self-hosted-runner"] = runnerJob(arm);
    jobs[BUILD_JOBS.aarch64] = buildJob(arm, true);
  }
  return jobs;
}

/**
 * The final job: once every leg is done (whatever its outcome), `cloud-images release` signs and
 * indexes the legs that were published and passed; then, when the repository sets the variable
 * ATTEST_BUILD_PROVENANCE to true, GitHub's own provenance attestation for the same images.
 */
function releaseJob(legJobNames: readonly string[]): Obj {
  return {
    name: "Sign and index the release",
    if: "${{ !cancelled() && inputs.upload_to_s3 }}",
    needs: ["init-data", ...legJobNames],
    // id-token: keyless Sigstore bundles (no CLOUD_IMAGES_ATTESTATION_KEY) and GitHub attestations;
    // attestations: write for actions/attest-build-provenance.
    permissions: { "id-token": "write", contents: "read", attestations: "write" },
    "runs-on": "ubuntu-24.04",
    steps: [
      ...installToolSteps(),
      {
        name: "Collect the legs' manifests",
        uses: uses(ACTIONS.downloadArtifact),
        with: { pattern: `${LEG_MANIFEST_ARTIFACT}-*`, path: "legs" },
      },
      {
        name: "Sign and index the published legs",
        env: {
          STORE: "${{ format('s3://{0}', vars.AWS_S3_BUCKET) }}",
          AWS_ACCESS_KEY_ID: "${{ secrets.AWS_ACCESS_KEY_ID }}",
          AWS_SECRET_ACCESS_KEY: "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
          AWS_REGION: "${{ vars.AWS_REGION }}",
          CLOUD_IMAGES_SIGNING_KEY: "${{ secrets.CLOUD_IMAGES_SIGNING_KEY }}",
          CLOUD_IMAGES_SIGNING_PASSPHRASE: "${{ secrets.CLOUD_IMAGES_SIGNING_PASSPHRASE }}",
          CLOUD_IMAGES_ATTESTATION_KEY: "${{ secrets.CLOUD_IMAGES_ATTESTATION_KEY }}",
        },
        run: `${TOOL_CLI} release --manifests legs --store "$STORE" --summary --subjects subjects.sha256sum
`,
      },
      {
        name: "Attest build provenance (GitHub attestations)",
        if: "${{ vars.ATTEST_BUILD_PROVENANCE == 'true' && hashFiles('subjects.sha256sum') != '' }}",
        uses: uses(ACTIONS.attestBuildProvenance),
        with: { "subject-checksums": "subjects.sha256sum" },
      },
    ],
  };
}

/** The workflow object for `id`. */
export function buildWorkflow(id: WorkflowId): Obj {
  const legs = legJobs(id);
  const builds = Object.values(BUILD_JOBS).filter((name) => name in legs);
  const jobs: Obj = { "init-data": initDataJob(), ...legs, release: releaseJob(builds) };
  return {
    name: WORKFLOWS[id].name,
    "run-name": runName(id),
    on: { workflow_dispatch: { inputs: dispatchInputs(id) } },
    permissions: {},
    defaults: { run: { shell: "bash" } },
    jobs,
  };
}
