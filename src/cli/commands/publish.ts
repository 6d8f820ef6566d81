import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { describeError } from "../../publish/describe.js";
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, MiB } from "../../publish/limits.js";
import { DEFAULT_STORE_URL, openStore } from "../../publish/open-store.js";
import { publishFiles, publishResultOf } from "../../publish/publish.js";
import type { PublishObjectResult, PublishProgress, PublishResult } from "../../publish/types.js";
import { parseTagArgs } from "../../publish/validate.js";
import type { RetryNotice } from "../../retry.js";
import { interruptSignal } from "../interrupts.js";
import { ProgressLine } from "../progress.js";
import { action, formatBytes, printJson, printLines, table, warn } from "../util.js";

interface PublishCliOptions {
  store: string;
  prefix: string;
  tag?: string[];
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  partSize: string;
  concurrency: string;
  retries: string;
  publicBaseUrl?: string;
  sha256sum: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("publish")
    .description(
      "upload files (image, .sha256sum, package list) to an object store under PREFIX, tag them and print their URLs",
    )
    .argument("<FILE...>", "files to publish; each becomes PREFIX/NAME")
    .option("--store <URL>", "file://DIR (relative to the cwd allowed) or s3://BUCKET", DEFAULT_STORE_URL)
    .requiredOption("--prefix <PREFIX>", "key prefix, e.g. images/9/9.6/gencloud/20260220143000")
    .option("--tag <KEY=VALUE>", "tag every object (repeatable), e.g. --tag public=yes", collect)
    .option(
      "--region <REGION>",
      "AWS region (default: AWS_REGION, the profile, or us-east-1 with --endpoint-url)",
    )
    .option(
      "--endpoint-url <URL>",
      "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL)",
    )
    .option("--path-style", "path-style bucket addressing (most S3-compatible stores need it)")
    .option("--part-size <MiB>", "multipart part size in MiB (5-5120)", String(DEFAULT_PART_SIZE / MiB))
    .option("--concurrency <N>", "parts uploaded at once (1-64)", String(DEFAULT_CONCURRENCY))
    .option("--retries <N>", "attempts per request before giving up (1-20)", "6")
    .option(
      "--public-base-url <URL>",
      "base of printed URLs (default https://BUCKET.s3-accelerate.dualstack.amazonaws.com)",
    )
    .option("--no-sha256sum", "do not check files against FILE.sha256sum beside them")
    .option("--json", "print the per-object results as JSON")
    .addHelpText(
      "after",
      "\nCredentials come from the AWS SDK's default chain only: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,\n" +
        "AWS_PROFILE, or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (GitHub OIDC).\n" +
        "An object already there with the same size and SHA-256 is skipped; a file that does not match its\n" +
        ".sha256sum is refused. Exit 1 names what was not published; exit 3 when another publish on this\n" +
        "machine holds a key; Ctrl-C or SIGTERM aborts the upload in progress (exit 130/143).\n" +
        "\nExample:\n" +
        "  cloud-images publish AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2{,.sha256sum,.txt} \\\n" +
        "    --store s3://almalinux-cloud --prefix images/9/9.6/gencloud/20260220143000 --tag public=yes",
    )
    .action(action(run, { unwinds: true }));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function intOption(value: string, what: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(value)} (valid: ${min} to ${max})`);
  }
  return n;
}

async function run(files: string[], opts: PublishCliOptions): Promise<number> {
  const tags = parseTagArgs(opts.tag ?? []);
  const partSizeMiB = intOption(opts.partSize, "--part-size", 5, 5120);
  const concurrency = intOption(opts.concurrency, "--concurrency", 1, 64);
  const attempts = intOption(opts.retries, "--retries", 1, 20);
  const isS3 = opts.store.startsWith("s3://");
  if (!isS3 && (opts.region || opts.endpointUrl || opts.pathStyle || opts.publicBaseUrl)) {
    throw new UsageError(
      "--region, --endpoint-url, --path-style and --public-base-url only apply to s3:// stores",
    );
  }
  const store = await openStore(opts.store, {
    region: opts.region,
    endpointUrl: opts.endpointUrl,
    forcePathStyle: opts.pathStyle,
    partSizeBytes: partSizeMiB * MiB,
    concurrency,
    publicBaseUrl: opts.publicBaseUrl,
    retry: { attempts },
    onNotice: warn,
    onRetry: (n: RetryNotice) =>
      warn(
        `${n.what}: ${describeError(n.error)}; attempt ${n.attempt + 1} in ${(n.delayMs / 1000).toFixed(1)} s`,
      ),
  });
  const progress = new ProgressLine(process.stderr.isTTY === true);
  try {
    const result = await publishFiles(
      store,
      files.map((path) => ({ path })),
      {
        prefix: opts.prefix,
        tags,
        useSidecarChecksums: opts.sha256sum,
        onNotice: warn,
        // Ctrl-C or SIGTERM aborts the upload in progress (no orphaned parts, no temp files).
        signal: interruptSignal(),
        onProgress: (p) => {
          progress.update(p);
          if (p.phase === "done" && !opts.json) {
            progress.clear();
            printLines([objectLine(p)]);
          }
        },
      },
    );
    progress.clear();
    if (opts.json) printJson(jsonOf(result));
    else printLines(urlLines(result));
    return 0;
  } catch (e) {
    progress.clear();
    const partial = publishResultOf(e);
    if (partial && opts.json) printJson(jsonOf(partial));
    throw e;
  } finally {
    await store.close();
  }
}

function objectLine(p: PublishProgress): string {
  const verb = p.status === "skipped" ? "skipped (identical object exists)" : (p.status ?? "done");
  return `${verb}: ${p.key} (${formatBytes(p.bytesTotal)})`;
}

function urlLines(result: PublishResult): string[] {
  const rows = result.objects.filter((o) => o.url).map((o) => [o.name, o.url!]);
  return rows.length > 0 ? ["", "Download URLs:", ...table(rows).map((l) => `  ${l}`)] : [];
}

function jsonOf(result: PublishResult) {
  return {
    ok: result.ok,
    store: result.store,
    kind: result.kind,
    objects: result.objects.map((o: PublishObjectResult) => ({
      role: o.role,
      name: o.name,
      key: o.key,
      size: o.size,
      sha256: o.sha256,
      ...(o.url ? { url: o.url } : {}),
      skipped: o.skipped ?? false,
      status: o.status,
      tags: o.tags,
      bytesRead: o.bytesRead,
      ...(o.error ? { error: o.error } : {}),
    })),
  };
}
