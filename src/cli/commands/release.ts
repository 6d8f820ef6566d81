import type { Command } from "commander";
import pkg from "../../../package.json" with { type: "json" };
import { appendGithubOutputs, appendJobSummary, inGithubActions } from "../../ci/github.js";
import { UsageError } from "../../errors.js";
import { checkOutputLocation, writeFileAtomic } from "../../files.js";
import { findManifestFiles, readLegManifest } from "../../manifest/read.js";
import { describeError } from "../../publish/describe.js";
import { DEFAULT_STORE_URL, openStore } from "../../publish/open-store.js";
import { formatSha256sumLine } from "../../publish/sha256sum.js";
import { validateHttpUrl } from "../../publish/url.js";
import { parseTagArgs } from "../../publish/validate.js";
import { ATTESTATION_MODES, type AttestationMode, releaseKeysFromEnv } from "../../release/keys.js";
import { type ReleaseResult, releaseLegs } from "../../release/release.js";
import { renderReleaseSummary } from "../../release/summary.js";
import type { RetryNotice } from "../../retry.js";
import { interruptSignal } from "../interrupts.js";
import { action, printJson, printLines, warn } from "../util.js";
import { POINT_RELEASE_EXAMPLES, pointRelease } from "./point-release.js";

interface ReleaseCliOptions {
  manifests?: string;
  store?: string;
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  publicBaseUrl?: string;
  tag?: string[];
  attestation: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  index: boolean;
  subjects?: string;
  summary?: boolean;
  github?: boolean;
  json?: boolean;
  // the point-release lookup (`release --version V --arch A`)
  version?: string;
  arch?: string;
  mirror?: string;
  timeout?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function register(program: Command): void {
  program
    .command("release")
    .description(
      "sign and index a run's published legs: CHECKSUM + CHECKSUM.asc per folder, provenance and\n" +
        "test-result bundles per image, stream and simplestreams index (--manifests);\n" +
        "with --version and --arch instead: the current point release (same as `point-release`)",
    )
    .option("--manifests <DIR>", "the run's leg manifests (*.manifest.json anywhere under DIR)")
    .option(
      "--store <URL>",
      `where the legs were published: s3://BUCKET or file://DIR (default outside CI: ${DEFAULT_STORE_URL})`,
    )
    .option("--region <R>", "S3 region (default: the AWS chain, e.g. AWS_REGION)")
    .option(
      "--endpoint-url <URL>",
      "S3-compatible endpoint (default: $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL)",
    )
    .option("--path-style", "path-style S3 addressing (for S3-compatible stores)")
    .option("--public-base-url <URL>", "base of the URLs the stream documents give (default: the store's)")
    .option("--tag <KEY=VALUE>", "tag of every object written, repeatable (default public=yes)", collect)
    .option(
      "--attestation <MODE>",
      `how bundles are signed: ${ATTESTATION_MODES.join(", ")} (auto: CLOUD_IMAGES_ATTESTATION_KEY if set, else keyless with an OIDC token, else none)`,
      "auto",
    )
    .option("--fulcio-url <URL>", "Fulcio for keyless signing (default: Sigstore's public instance)")
    .option("--rekor-url <URL>", "Rekor for keyless signing (default: Sigstore's public instance)")
    .option("--no-index", "write checksums and bundles only, not the index documents")
    .option(
      "--subjects <FILE>",
      "also write the released images as a sha256sum file (attest-build-provenance's subject-checksums)",
    )
    .option("--summary", "append a summary to $GITHUB_STEP_SUMMARY (printed when it is not set)")
    .option("--github", "append checksums (the CHECKSUM keys) and index (the index keys) to $GITHUB_OUTPUT")
    .option("--json", "print the result as JSON")
    .option("--version <V>", "(point release) major version: 10-kitten, 10, 9 or 8")
    .option("--arch <A>", "(point release) x86_64, aarch64 or x86_64_v2")
    .option(
      "--mirror <URL>",
      "(point release) base URL holding almalinux-release-latest-V.A.rpm (default: $CLOUD_IMAGES_MIRROR, else the AlmaLinux repository)",
    )
    .option("--timeout <SECONDS>", "(point release) give up after this many seconds")
    .addHelpText(
      "after",
      "\nKeys come from the environment only, never from arguments, and are never printed:\n" +
        "  CLOUD_IMAGES_SIGNING_KEY         ASCII-armored OpenPGP private key (CHECKSUM.asc; unset: unsigned CHECKSUM, a warning)\n" +
        "  CLOUD_IMAGES_SIGNING_PASSPHRASE  its passphrase, when it has one\n" +
        "  CLOUD_IMAGES_ATTESTATION_KEY     PEM ECDSA P-256 private key for the Sigstore bundles\n" +
        "In GitHub Actions with `id-token: write` and no attestation key, bundles are signed keyless\n" +
        "(GitHub OIDC → Fulcio certificate, Rekor transparency log).\n" +
        "\nOnly legs that were published and passed verification (and the boot test, when it ran) are\n" +
        "released. Everything is signed before the first write; a failed write rolls back what was written.\n" +
        "Exit codes: 0 released, 1 writing or a store check failed, 2 bad input (keys, manifests, options),\n" +
        "130/143 interrupted by Ctrl-C/SIGTERM (what was written is rolled back first).\n" +
        "\nExamples:\n" +
        "  cloud-images release --manifests legs/ --store s3://almalinux-cloud\n" +
        "  cloud-images release --manifests examples/demo --store file://./dist/bucket --json\n" +
        POINT_RELEASE_EXAMPLES.replaceAll("point-release", "release"),
    )
    .action(action(run, { unwinds: true }));
}

async function run(opts: ReleaseCliOptions): Promise<number> {
  const lookup =
    opts.version !== undefined ||
    opts.arch !== undefined ||
    opts.mirror !== undefined ||
    opts.timeout !== undefined;
  if (opts.manifests === undefined) {
    if (!lookup) {
      throw new UsageError(
        "give --manifests DIR (with --store URL) to sign and index a run's legs, or --version V --arch A for the current point release",
      );
    }
    if (opts.version === undefined || opts.arch === undefined) {
      throw new UsageError("the point-release lookup needs both --version and --arch");
    }
    return pointRelease({
      version: opts.version,
      arch: opts.arch,
      mirror: opts.mirror,
      timeout: opts.timeout ?? "30",
      json: opts.json,
    });
  }
  if (lookup) {
    throw new UsageError(
      "--version, --arch, --mirror and --timeout belong to the point-release lookup, not to --manifests",
    );
  }
  return releaseRun(opts);
}

async function releaseRun(opts: ReleaseCliOptions): Promise<number> {
  const storeUrl = opts.store ?? (inGithubActions() ? undefined : DEFAULT_STORE_URL);
  if (!storeUrl) throw new UsageError("--store is required in CI (s3://BUCKET or file://DIR)");
  if (storeUrl === "none")
    throw new UsageError("--store none: a release needs the store the legs were published to");
  const tags = opts.tag ? parseTagArgs(opts.tag) : undefined;
  if (opts.publicBaseUrl) validateHttpUrl(opts.publicBaseUrl, "public base URL");
  if (opts.fulcioUrl) validateHttpUrl(opts.fulcioUrl, "Fulcio URL");
  if (opts.rekorUrl) validateHttpUrl(opts.rekorUrl, "Rekor URL");
  if (opts.subjects) await checkOutputLocation(opts.subjects);
  // Manifests and keys first: bad input is found before the store is touched.
  const files = await findManifestFiles(opts.manifests!);
  const manifests = [];
  for (const path of files) manifests.push({ path, manifest: await readLegManifest(path) });
  const keys = await releaseKeysFromEnv(process.env, {
    attestation: opts.attestation as AttestationMode,
    fulcioUrl: opts.fulcioUrl,
    rekorUrl: opts.rekorUrl,
  });
  for (const w of keys.warnings) warn(w);

  const isS3 = storeUrl.startsWith("s3://");
  if (!isS3 && (opts.region || opts.endpointUrl || opts.pathStyle)) {
    throw new UsageError("--region, --endpoint-url and --path-style only apply to s3:// stores");
  }
  const store = await openStore(storeUrl, {
    region: opts.region,
    endpointUrl: opts.endpointUrl,
    forcePathStyle: opts.pathStyle,
    onRetry: (n: RetryNotice) =>
      warn(
        `${n.what}: ${describeError(n.error)}; attempt ${n.attempt + 1} in ${(n.delayMs / 1000).toFixed(1)} s`,
      ),
  });
  let result: ReleaseResult;
  try {
    result = await releaseLegs({
      manifests,
      store,
      openpgp: keys.openpgp,
      attester: keys.attester,
      tags,
      index: opts.index,
      publicBaseUrl: opts.publicBaseUrl,
      generator: `cloud-images ${pkg.version}`,
      log: (line) => process.stderr.write(`${line}\n`),
      warn,
      // Ctrl-C or SIGTERM: what was written is rolled back before the tool exits.
      signal: interruptSignal(),
    });
  } finally {
    await store.close();
  }

  if (opts.subjects) {
    const lines = manifests
      .filter((m) => result.legs.some((l) => l.path === m.path))
      .map(({ manifest }) => {
        const image = manifest.published!.objects.find((o) => o.role === "image")!;
        return formatSha256sumLine(image.sha256, image.name);
      });
    await writeFileAtomic(opts.subjects, [...new Set(lines)].join(""));
  }
  const summary = renderReleaseSummary(result);
  if (opts.summary && !appendJobSummary(summary) && !opts.json) process.stdout.write(summary);
  if (opts.github) {
    appendGithubOutputs({
      checksums: result.folders.map((f) => f.checksumKey).join("\n"),
      index: result.index.join("\n"),
    });
  }
  if (opts.json) printJson(result);
  else if (!opts.summary) printLines(releaseLines(result));
  return 0;
}

function releaseLines(result: ReleaseResult): string[] {
  const lines = [`released ${result.legs.length} image(s) to ${result.store}:`];
  for (const f of result.folders) {
    lines.push(
      `  ${f.checksumKey} (${f.files.length} files)${f.signatureKey ? `, signed by ${f.signedBy}` : ", unsigned"}`,
    );
  }
  const bundles = result.legs.flatMap((l) => l.bundles);
  if (bundles.length > 0) lines.push(`  ${bundles.length} Sigstore bundles beside the images`);
  if (result.index.length > 0) lines.push(`  index: ${result.index.join(", ")}`);
  for (const s of result.skipped) lines.push(`  not released: ${s.leg}: ${s.reason}`);
  return lines;
}
