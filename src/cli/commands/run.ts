import { type Command, Option } from "commander";
import {
  appendGithubEnv,
  appendGithubOutputs,
  inGithubActions,
  requireGithubFiles,
} from "../../ci/github.js";
import { parseDuration } from "../../durations.js";
import { InterruptedError, UsageError } from "../../errors.js";
import { STEP_NAMES, type StepName } from "../../manifest/manifest.js";
import { upstreamJobEnv } from "../../pipeline/job-env.js";
import { runLeg } from "../../pipeline/runner.js";
import { DEFAULT_STORE_URL } from "../../publish/open-store.js";
import { parseTagArgs } from "../../publish/validate.js";
import { interruptSignal } from "../interrupts.js";
import { ProgressLine } from "../progress.js";
import { action, printJson, printLines, wholeNumber } from "../util.js";

interface RunOptions {
  type: string;
  variant: string;
  arch: string;
  templates: string;
  release?: string;
  mirror?: string;
  timestamp?: string;
  store?: string;
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  tag?: string[];
  notify?: boolean;
  previousPackages?: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  clean?: boolean;
  packer?: string;
  buildTimeout?: string;
  sbom: boolean;
  bootTest: boolean;
  bootTimeout?: string;
  boots?: string;
  accel?: "auto" | "kvm" | "tcg";
  policy?: string;
  waivers?: string;
  deep?: boolean;
  json?: boolean;
  github?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function register(program: Command): void {
  program
    .command("run")
    .description(
      "run one build leg: prepare → build (Packer) → locate → checksum → verify → test (boot) → publish → release → report,\n" +
        "recording every step in IMAGE.manifest.json beside the image",
    )
    .requiredOption("--type <type>", "azure, gencloud, gencloud_ext4, oci or opennebula")
    .requiredOption("--variant <variant>", "9, 10-v2, 9-64k, 10-kitten…")
    .requiredOption("--arch <arch>", "x86_64 or aarch64")
    .option("--templates <DIR>", "the Packer templates (a checkout of the templates repository)", ".")
    .option("--release <R>", "point release such as 9.6 (default: read from the mirror; Kitten: 10)")
    .option(
      "--mirror <URL>",
      "where almalinux-release-latest-*.rpm is read from (default: $CLOUD_IMAGES_MIRROR, else the AlmaLinux repository)",
    )
    .option("--timestamp <TS>", "the run's UTC stamp YYYYMMDDhhmmss (default: now)")
    .option("--store <URL>", `file://DIR, s3://BUCKET or none (default outside CI: ${DEFAULT_STORE_URL})`)
    .option("--region <R>", "S3 region (default: the AWS chain, e.g. AWS_REGION)")
    .option(
      "--endpoint-url <URL>",
      "S3-compatible endpoint (default: $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL)",
    )
    .option("--path-style", "path-style S3 addressing (for S3-compatible stores)")
    .option("--tag <KEY=VALUE>", "object tag, repeatable (default public=yes)", collect)
    .option("--notify", "post the report to Mattermost (MATTERMOST_WEBHOOK_URL, MATTERMOST_CHANNEL)")
    .option("--previous-packages <FILE>", "previous build's package list: the report shows the diff")
    .option("--from <STEP>", `resume from STEP, reusing earlier recorded outputs (${STEP_NAMES.join(", ")})`)
    .option("--to <STEP>", "stop after STEP")
    .option(
      "--dry-run",
      "print the commands and keys without running anything (without --release it still reads the\n" +
        "point release from the mirror)",
    )
    .option("--clean", "remove a stale output directory from an earlier run")
    .option("--packer <PATH>", "the packer executable", "packer")
    .option("--build-timeout <MINUTES>", "stop Packer after this long", "180")
    .option("--no-sbom", "do not write a CycloneDX SBOM beside the image")
    .option("--boot-test", "run the test step: boot the image in QEMU and check it over SSH (the default)")
    .option("--no-boot-test", "skip the test step")
    .option("--boot-timeout <SECONDS>", "the boot test's budget (default 600 with KVM, 1500 with TCG)")
    .option("--boots <N>", "boot test: boot N fresh overlays, identity must differ (default 1)")
    .addOption(
      new Option(
        "--accel <A>",
        "boot test accelerator; auto uses KVM when a probe guest runs under it",
      ).choices(["auto", "kvm", "tcg"]),
    )
    .option(
      "--policy <FILE>",
      "policy file adding to or overriding the leg's built-in acceptance policy (verify)",
    )
    .option(
      "--waivers <FILE>",
      "accepted acceptance-policy failures, each with a reason and an expiry date (verify)",
    )
    .option(
      "--json",
      'print the leg manifest as JSON (logs stay on stderr); with --dry-run {"dryRun","resolved","plan"}',
    )
    .option("--deep", "verify also runs file-integrity: every packaged file's size and digest")
    .option(
      "--github",
      "append image, checksum, packages, manifest, sbom and tests to $GITHUB_OUTPUT, and IMAGE_FILE,\n" +
        "IMAGE_NAME, AWS_S3_PATH, RELEASE_STRING… (what upstream's test and release actions read) to $GITHUB_ENV",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 a step failed (named), 2 bad input, 3 another run holds the leg's output\n" +
        "directory, 128+N interrupted by signal N (130 Ctrl-C, 143 SIGTERM; recorded in the manifest).\n" +
        "\nExamples:\n" +
        "  cloud-images run --templates examples/demo --type gencloud --variant 9 --arch x86_64 --release 9.6\n" +
        "  cloud-images run --templates ../cloud-images --type oci --variant 10 --arch x86_64 --store s3://almalinux-cloud\n" +
        "  cloud-images run --templates examples/demo --type gencloud --variant 9 --arch x86_64 --from verify",
    )
    .action(action(run, { unwinds: true }));
}

async function run(opts: RunOptions): Promise<number> {
  const store = opts.store ?? (inGithubActions() ? undefined : DEFAULT_STORE_URL);
  if (!store) throw new UsageError("--store is required in CI (s3://BUCKET, file://DIR or none)");
  if (opts.github && !opts.dryRun) requireGithubFiles("GITHUB_OUTPUT", "GITHUB_ENV");
  const progress = new ProgressLine(process.stderr.isTTY === true);
  const result = await runLeg({
    type: opts.type,
    variant: opts.variant,
    arch: opts.arch,
    templatesDir: opts.templates,
    release: opts.release,
    mirror: opts.mirror,
    timestamp: opts.timestamp,
    store,
    storeOptions: { region: opts.region, endpointUrl: opts.endpointUrl, forcePathStyle: opts.pathStyle },
    tags: opts.tag ? parseTagArgs(opts.tag) : undefined,
    notify: opts.notify,
    previousPackages: opts.previousPackages,
    from: opts.from as StepName | undefined,
    to: opts.to as StepName | undefined,
    dryRun: opts.dryRun,
    clean: opts.clean,
    packer: opts.packer,
    buildTimeoutMs: parseDuration(opts.buildTimeout ?? "180", { flag: "--build-timeout", unit: "minutes" }),
    sbom: opts.sbom,
    signal: interruptSignal(),
    bootTest: {
      enabled: opts.bootTest,
      ...(opts.bootTimeout !== undefined
        ? {
            timeoutSeconds:
              parseDuration(opts.bootTimeout, { flag: "--boot-timeout", unit: "seconds" }) / 1000,
          }
        : {}),
      ...(opts.boots !== undefined ? { boots: wholeNumber("--boots", opts.boots) } : {}),
      ...(opts.accel !== undefined ? { accelerator: opts.accel } : {}),
    },
    policyFile: opts.policy,
    waiversFile: opts.waivers,
    deep: opts.deep,
    log: (line) => {
      progress.clear();
      process.stderr.write(`${line}\n`);
    },
    onProgress: (p) => progress.update(p),
  });
  progress.clear();

  if (result.plan) {
    if (opts.json) printJson({ dryRun: true, resolved: result.manifest.resolved, plan: result.plan });
    else printLines(result.plan);
    return 0;
  }
  if (result.interrupted) {
    const { signal, at } = result.interrupted;
    const where = result.manifest.interrupted ? ` during ${result.manifest.interrupted.step}` : "";
    const manifest = result.manifestPath ? `; manifest: ${result.manifestPath}` : "";
    throw new InterruptedError(
      signal,
      `interrupted by ${signal}${where}, its processes stopped${manifest}`,
      at,
    );
  }
  const { state } = result;
  if (opts.github) {
    appendGithubOutputs({
      image: state.imagePath ?? "",
      checksum: state.checksumPath ?? "",
      packages: state.packagesPath ?? "",
      manifest: result.manifestPath ?? "",
      sbom: state.sbomPath ?? "",
      tests: result.manifest.tests.boot === "failed" ? "failed" : result.manifest.tests.offline,
    });
    appendGithubEnv(upstreamJobEnv(state));
  }
  if (opts.json) printJson(result.manifest);
  else {
    if (state.summary && !process.env.GITHUB_STEP_SUMMARY) process.stdout.write(`\n${state.summary}`);
    const files = [
      ["image:", state.imagePath],
      ["checksum:", state.checksumPath],
      ["packages:", state.packagesPath],
      ["sbom:", state.sbomPath],
      ["manifest:", result.manifestPath],
    ].filter(([, v]) => v);
    if (files.length > 0) printLines(["", ...files.map(([k, v]) => `${k!.padEnd(10)} ${v}`)]);
    const published = state.published?.objects ?? [];
    if (published.length > 0) {
      printLines([
        `published: ${published.length} objects to ${state.published!.store}/${state.resolved?.s3Prefix}/`,
      ]);
    }
  }
  if (result.failedStep) {
    process.stderr.write(`cloud-images: error: step ${result.error}\n`);
    return 1;
  }
  return 0;
}
