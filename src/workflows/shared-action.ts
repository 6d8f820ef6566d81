// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
/**
 * The composite action every build leg runs: install what the runner lacks, then hand the leg to the
 * CLI (templates check, then `run` for prepare → build → locate → checksum → verify → publish, then
 * `report`). Bash only installs packages and invokes the CLI; values arrive through `env:`.
 */
import { IMAGE_TYPES } from "../catalog/catalog.js";
import { CLI_ENV, LEG_MANIFEST_ARTIFACT, NODE_VERSION, TEMPLATES_DIR } from "./layout.js";
import { ACTIONS, uses } from "./pins.js";

type Obj = Record<string, unknown>;

const CLI = `node "$${CLI_ENV}"`;

function input(description: string, required: boolean, fallback?: string): Obj {
  const spec: Obj = { description, required };
  if (fallback !== undefined) spec.default = fallback;
  return spec;
}

const INPUTS: Obj = {
  type: input(`Image type: ${IMAGE_TYPES.join(", ")}`, true),
  variant: input("Version with an optional suffix: 9, 10-v2, 9-64k, 10-kitten...", true),
  arch: input("x86_64 or aarch64", true),
  time_stamp: input("The run's UTC stamp, YYYYMMDDhhmmss (from the init-data job)", true),
  templates: input("Directory of the Packer templates checkout", false, TEMPLATES_DIR),
  S3_ACCESS_KEY_ID: input("AWS access key id (S3 upload)", false, ""),
  S3_SECRET_ACCESS_KEY: input("AWS secret access key (S3 upload)", false, ""),
  AWS_REGION: input("AWS region of the bucket", false, ""),
  AWS_S3_BUCKET: input("S3 bucket the images are published to", false, ""),
  MATTERMOST_WEBHOOK_URL: input("Mattermost incoming webhook URL", false, ""),
  MATTERMOST_CHANNEL: input("Mattermost channel", false, ""),
  PACKER_GITHUB_API_TOKEN: input("GitHub token for `packer init` (API rate limit)", false, ""),
  packer_cpus: input(
    "vCPUs for the Packer build VM, a whole number (empty: the templates' default; the workflows pass the variable PACKER_CPUS)",
    false,
    "",
  ),
  store_as_artifact: input(
    "Store the image, checksum and package list as workflow artifacts",
    false,
    "false",
  ),
  run_test: input(
    "Boot the image in QEMU and test it before publishing (cloud-images run's test step)",
    false,
    "true",
  ),
  upload_to_s3: input("Upload to the S3 bucket (tagged public=yes)", false, "true"),
  notify_mattermost: input("Send a notification to Mattermost", false, "true"),
};

const RUN_OUTPUTS: Record<string, string> = {
  image: "Path of the image file",
  checksum: "Path of its .sha256sum file",
  packages: "Path of its installed-package list (.txt)",
  manifest: "Path of the leg manifest (JSON)",
  sbom: "Path of the SBOM",
  tests: "passed or failed (image verification, and the boot test when it ran)",
};

const OUTPUTS: Obj = Object.fromEntries(
  Object.entries(RUN_OUTPUTS).map(([name, description]) => [
    name,
    { description, value: `\${{ steps.run.outputs.${name} }}` },
  ]),
);

/** A bash step, keys in the usual reading order (name, id, if, shell, working-directory, env, run). */
function bash(step: Obj): Obj {
  const { name, id, if: condition, ...rest } = step;
  return { name, ...(id ? { id } : {}), ...(condition ? { if: condition } : {}), shell: "bash", ...rest };
}

const UBUNTU_INSTALL = `keyring=/usr/share/keyrings/hashicorp-archive-keyring.gpg
wget -qO- https://apt.releases.hashicorp.com/gpg | sudo gpg --batch --yes --dearmor -o "$keyring"
echo "deb [arch=$(dpkg --print-architecture) signed-by=$keyring] https://apt.releases.hashicorp.com $(lsb_release -cs) main" \\
  | sudo tee /etc/apt/sources.list.d/hashicorp.list
sudo apt-get -y update
sudo apt-get -y install packer qemu-kvm qemu-utils ovmf ansible
{
  echo "PKR_VAR_qemu_binary=/usr/bin/qemu-system-$ARCH"
  echo "PKR_VAR_ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd"
  echo "PKR_VAR_ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd"
} >> "$GITHUB_ENV"
`;

const RHEL_INSTALL = `sudo dnf -y -q install dnf-plugins-core epel-release
sudo dnf config-manager --add-repo https://rpm.releases.hashicorp.com/RHEL/hashicorp.repo
sudo dnf -y -q install packer qemu-kvm ansible
echo "PKR_VAR_qemu_binary=/usr/libexec/qemu-kvm" >> "$GITHUB_ENV"
`;

const KVM_RULE = `KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"`;

/** Artifacts are named after the image file, as upstream names them (IMAGE_NAME, IMAGE_NAME.sha256sum...). */
function artifactStep(id: string, what: string, output: string, suffix: string, level: number): Obj {
  const required = output !== "packages";
  return {
    name: `Store the ${what} as an artifact`,
    id,
    if: "inputs.store_as_artifact == 'true'",
    uses: uses(ACTIONS.uploadArtifact),
    with: {
      name: `\${{ env.IMAGE_NAME }}${suffix}`,
      path: `\${{ steps.run.outputs.${output} }}`,
      "compression-level": level,
      "if-no-files-found": required ? "error" : "warn",
    },
  };
}

function steps(): Obj[] {
  return [
    {
      // Only on RunsOn, and not on AlmaLinux runner images, which have no CloudWatch agent (upstream bb5d49b).
      name: "RunsOn metrics",
      if: "env.RUNS_ON_VERSION != '' && !contains(env.RUNS_ON_AMI_NAME, 'AlmaLinux')",
      uses: uses(ACTIONS.runsOn),
      with: { metrics: "cpu,network,memory,disk,io" },
    },
    {
      name: "Set up Node.js",
      uses: uses(ACTIONS.setupNode),
      with: { "node-version": NODE_VERSION, "package-manager-cache": false },
    },
    bash({
      name: "Install cloud-images",
      "working-directory": "${{ github.action_path }}/../../..",
      run: `npm ci --ignore-scripts --no-audit --no-fund\nnpm run build\necho "${CLI_ENV}=$(pwd -P)/bin/cloud-images.js" >> "$GITHUB_ENV"\n`,
    }),
    bash({
      name: "Check the Packer templates for this leg",
      env: {
        TEMPLATES: "${{ inputs.templates }}",
        LEG: "${{ inputs.type }}:${{ inputs.variant }}:${{ inputs.arch }}",
      },
      run: `${CLI} templates check --dir "$TEMPLATES" --leg "$LEG"\n`,
    }),
    bash({
      name: "Detect the runner OS",
      id: "os",
      run: 'if [ -e /etc/redhat-release ]; then family=rhel; else family=ubuntu; fi\necho "family=$family" >> "$GITHUB_OUTPUT"\n',
    }),
    bash({
      name: "Install Packer, QEMU/KVM, OVMF and Ansible (Ubuntu)",
      if: "steps.os.outputs.family == 'ubuntu'",
      env: { ARCH: "${{ inputs.arch }}" },
      run: UBUNTU_INSTALL,
    }),
    bash({
      name: "Install Packer, QEMU/KVM and Ansible (RHEL family)",
      if: "steps.os.outputs.family == 'rhel'",
      run: RHEL_INSTALL,
    }),
    bash({
      name: "Enable KVM group perms",
      run: `echo '${KVM_RULE}' | sudo tee /etc/udev/rules.d/99-kvm4all.rules\nsudo udevadm control --reload-rules\nsudo udevadm trigger --name-match=kvm\n`,
    }),
    bash({
      name: "Give the Packer build VM more CPUs",
      if: "inputs.packer_cpus != ''",
      env: { PACKER_CPUS: "${{ inputs.packer_cpus }}" },
      run:
        'if ! [[ "$PACKER_CPUS" =~ ^[1-9][0-9]{0,3}$ ]]; then\n' +
        '  echo "::error::PACKER_CPUS must be a whole number of vCPUs (1-9999)"; exit 1\n' +
        "fi\n" +
        'echo "PKR_VAR_cpus=$PACKER_CPUS" >> "$GITHUB_ENV"\n',
    }),
    bash({
      name: "Install the templates' Packer plugins",
      "working-directory": "${{ inputs.templates }}",
      env: { PACKER_GITHUB_API_TOKEN: "${{ inputs.PACKER_GITHUB_API_TOKEN }}" },
      run: "packer init -upgrade .\n",
    }),
    bash({
      name: "Build, verify and publish the image",
      id: "run",
      env: {
        TYPE: "${{ inputs.type }}",
        VARIANT: "${{ inputs.variant }}",
        ARCH: "${{ inputs.arch }}",
        TEMPLATES: "${{ inputs.templates }}",
        TIME_STAMP: "${{ inputs.time_stamp }}",
        BOOT_TEST: "${{ inputs.run_test == 'true' && '--boot-test' || '--no-boot-test' }}",
        STORE: "${{ inputs.upload_to_s3 == 'true' && format('s3://{0}', inputs.AWS_S3_BUCKET) || 'none' }}",
        AWS_ACCESS_KEY_ID: "${{ inputs.upload_to_s3 == 'true' && inputs.S3_ACCESS_KEY_ID || '' }}",
        AWS_SECRET_ACCESS_KEY: "${{ inputs.upload_to_s3 == 'true' && inputs.S3_SECRET_ACCESS_KEY || '' }}",
        AWS_REGION: "${{ inputs.AWS_REGION }}",
        PACKER_GITHUB_API_TOKEN: "${{ inputs.PACKER_GITHUB_API_TOKEN }}",
      },
      run:
        `${CLI} run --type "$TYPE" --variant "$VARIANT" --arch "$ARCH" --templates "$TEMPLATES" \\\n` +
        `  --timestamp "$TIME_STAMP" --store "$STORE" "$BOOT_TEST" --to publish --github\n`,
    }),
    artifactStep("image-artifact", "image", "image", "", 1),
    artifactStep("checksum-artifact", "checksum", "checksum", ".sha256sum", 1),
    artifactStep("packages-artifact", "package list", "packages", ".txt", 9),
    {
      name: "Store the manifest and SBOM as an artifact",
      if: "${{ !cancelled() && inputs.store_as_artifact == 'true' && steps.run.outputs.manifest != '' }}",
      uses: uses(ACTIONS.uploadArtifact),
      with: {
        // Before an image exists (a failed build) the leg names the artifact.
        name: "${{ env.IMAGE_NAME || format('{0}-{1}-{2}', inputs.type, inputs.variant, inputs.arch) }}.manifest",
        path: "${{ steps.run.outputs.manifest }}\n${{ steps.run.outputs.sbom }}\n",
        "compression-level": 9,
      },
    },
    {
      // The release job (after every leg) signs and indexes what the legs published, from their manifests.
      name: "Hand the manifest to the release job",
      if: "${{ !cancelled() && inputs.upload_to_s3 == 'true' && steps.run.outputs.manifest != '' }}",
      uses: uses(ACTIONS.uploadArtifact),
      with: {
        name: `${LEG_MANIFEST_ARTIFACT}-\${{ inputs.type }}-\${{ inputs.variant }}-\${{ inputs.arch }}`,
        path: "${{ steps.run.outputs.manifest }}\n",
        "compression-level": 9,
        "retention-days": 7,
      },
    },
    bash({
      name: "Report to the job summary and Mattermost",
      if: "${{ !cancelled() && steps.run.outputs.manifest != '' }}",
      env: {
        MANIFEST: "${{ steps.run.outputs.manifest }}",
        // The store's index tells what changed since the leg's previous release.
        STORE: "${{ inputs.upload_to_s3 == 'true' && format('s3://{0}', inputs.AWS_S3_BUCKET) || '' }}",
        AWS_ACCESS_KEY_ID: "${{ inputs.upload_to_s3 == 'true' && inputs.S3_ACCESS_KEY_ID || '' }}",
        AWS_SECRET_ACCESS_KEY: "${{ inputs.upload_to_s3 == 'true' && inputs.S3_SECRET_ACCESS_KEY || '' }}",
        AWS_REGION: "${{ inputs.AWS_REGION }}",
        NOTIFY: "${{ inputs.notify_mattermost == 'true' && 'yes' || '' }}",
        MATTERMOST_WEBHOOK_URL: "${{ inputs.MATTERMOST_WEBHOOK_URL }}",
        MATTERMOST_CHANNEL: "${{ inputs.MATTERMOST_CHANNEL }}",
        IMAGE_URL: "${{ steps.image-artifact.outputs.artifact-url }}",
        CHECKSUM_URL: "${{ steps.checksum-artifact.outputs.artifact-url }}",
        PACKAGES_URL: "${{ steps.packages-artifact.outputs.artifact-url }}",
      },
      run:
        `${CLI} report --manifest "$MANIFEST" --summary \${NOTIFY:+--mattermost} \${STORE:+--store "$STORE"} \\\n` +
        '  ${IMAGE_URL:+--artifact-url "image=$IMAGE_URL"} \\\n' +
        '  ${CHECKSUM_URL:+--artifact-url "checksum=$CHECKSUM_URL"} \\\n' +
        '  ${PACKAGES_URL:+--artifact-url "packages=$PACKAGES_URL"}\n',
    }),
  ];
}

/** The composite action object (`.github/actions/shared-steps/action.yml`). */
export function buildSharedAction(): Obj {
  return {
    name: "Cloud image build, upload and notify",
    description:
      "Installs what the runner lacks (Node.js, Packer, QEMU/KVM, OVMF, Ansible), then runs one build leg " +
      "with the cloud-images CLI: templates check, build, checksum, verify, publish, report.",
    inputs: INPUTS,
    outputs: OUTPUTS,
    runs: { using: "composite", steps: steps() },
  };
}
