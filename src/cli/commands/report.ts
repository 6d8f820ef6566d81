import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { appendJobSummary } from "../../ci/github.js";
import { UsageError } from "../../errors.js";
import type { LegManifest } from "../../manifest/manifest.js";
import { findManifestFiles, readLegManifest } from "../../manifest/read.js";
import { renderRunMattermostText, renderRunSummary } from "../../notify/aggregate.js";
import { workflowRunUrl } from "../../notify/links.js";
import {
  type MattermostPayload,
  mattermostPayload,
  type NotifyResult,
  postMattermost,
  validateWebhookUrl,
} from "../../notify/mattermost.js";
import { packageDiffForLeg, reportLeg } from "../../notify/report.js";
import { openStore } from "../../publish/open-store.js";
import { changesSincePrevious, localPackages, publishedPackages } from "../../release/previous.js";
import { action, printJson, warn } from "../util.js";

interface ReportOptions {
  manifest?: string;
  manifests?: string;
  store?: string;
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  previous: boolean;
  summary?: boolean;
  mattermost?: boolean;
  artifactUrl?: string[];
  previousPackages?: string;
  packages?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "the job summary and the Mattermost message for one leg (--manifest) or a whole run (--manifests)",
    )
    .option("--manifest <FILE>", "one leg's NAME.manifest.json")
    .option("--manifests <DIR>", "every *.manifest.json under DIR: all legs of one run as one table")
    .option("--summary", "append the summary to $GITHUB_STEP_SUMMARY (printed when it is not set)")
    .option(
      "--mattermost",
      "post to the webhook in MATTERMOST_WEBHOOK_URL (channel: MATTERMOST_CHANNEL; user: MATTERMOST_USERNAME or the triggering actor)",
    )
    .option(
      "--artifact-url <NAME=URL>",
      "link NAME to a GitHub artifact URL (repeatable; upload-artifact's artifact-url output)",
      collect,
    )
    .option(
      "--previous-packages <FILE>",
      "previous build's package list: adds the package diff (--manifest only)",
    )
    .option("--packages <FILE>", "this build's package list (default: the manifest's verdict.packagesFile)")
    .option(
      "--store <URL>",
      "where to find the index and the previous build (default: the manifest's store when it is file://)",
    )
    .option("--region <R>", "S3 region for --store (default: the AWS chain)")
    .option("--endpoint-url <URL>", "S3-compatible endpoint for --store")
    .option("--path-style", "path-style S3 addressing for --store")
    .option("--no-previous", "do not look for the previous build in the store's index")
    .option("--json", "print {summary, mattermost} as JSON (never the webhook URL)")
    .addHelpText(
      "after",
      "\nWithout --summary or --mattermost the summary is printed. A failed notification is reported on\n" +
        "stderr and gives exit 1 after the summary was written.\n" +
        "With --manifest and an index in the store (written by `cloud-images release`), the report adds what\n" +
        "changed since the leg's previous indexed build: packages added, removed and upgraded (with versions,\n" +
        "from the SBOMs) and the image size; --previous-packages FILE compares with that list instead.\n" +
        "\nExamples:\n" +
        "  cloud-images report --manifest output/AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2.manifest.json --summary --mattermost\n" +
        "  cloud-images report --manifests legs/ --summary --mattermost",
    )
    .action(action(run));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseArtifactUrls(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const name = arg.slice(0, eq);
    const url = arg.slice(eq + 1);
    if (eq <= 0 || !/^https?:\/\/\S+$/.test(url)) {
      throw new UsageError(`invalid --artifact-url ${JSON.stringify(arg)}: expected NAME=https://…`);
    }
    out[name] = url;
  }
  return out;
}

/**
 * What changed since the leg's previous indexed build, from the given store or, for a file:// store,
 * the one the manifest records (an S3 store is only asked when given with --store: no surprise network
 * access, no credential lookups). Nothing (with a warning when the store cannot be read) when there is
 * no such build.
 */
async function sincePrevious(manifest: LegManifest, manifestPath: string, opts: ReportOptions) {
  const recorded = manifest.published?.kind === "file" ? manifest.published.store : undefined;
  const url = opts.store ?? recorded;
  if (!url) return undefined;
  try {
    const store = await openStore(url, {
      region: opts.region,
      endpointUrl: opts.endpointUrl,
      forcePathStyle: opts.pathStyle,
    });
    try {
      const verify = manifest.steps.find((s) => s.name === "verify" && s.status !== "failed")?.outputs;
      const beside = (path: unknown) =>
        typeof path === "string" ? resolve(dirname(manifestPath), path) : undefined;
      // With versions when either SBOM can be read (this machine's, else the published one).
      const current =
        (await localPackages({ sbom: beside(verify?.sbomFile) })) ??
        (await publishedPackages(store, manifest)) ??
        (await localPackages({ packages: opts.packages ?? beside(manifest.verdict?.packagesFile) }));
      return current ? await changesSincePrevious(store, manifest, current) : undefined;
    } finally {
      await store.close();
    }
  } catch (e) {
    if (e instanceof UsageError && opts.store) throw e;
    warn(`cannot compare with the previous build in ${url}: ${(e as Error).message}`);
    return undefined;
  }
}

async function run(opts: ReportOptions): Promise<number> {
  if (!opts.manifest === !opts.manifests)
    throw new UsageError("give exactly one of --manifest FILE or --manifests DIR");
  if (
    opts.manifests &&
    (opts.previousPackages || opts.packages || (opts.artifactUrl ?? []).length > 0 || opts.store)
  ) {
    throw new UsageError(
      "--previous-packages, --packages, --artifact-url and --store apply to --manifest only",
    );
  }
  const artifactUrls = parseArtifactUrls(opts.artifactUrl ?? []);
  const webhook = opts.mattermost ? process.env.MATTERMOST_WEBHOOK_URL : undefined;
  if (opts.mattermost) {
    if (!webhook) throw new UsageError("--mattermost needs MATTERMOST_WEBHOOK_URL in the environment");
    validateWebhookUrl(webhook);
  }
  const runUrl = workflowRunUrl();

  let summary: string;
  let text: string;
  if (opts.manifest) {
    const manifest = await readLegManifest(opts.manifest);
    const changes =
      opts.previousPackages || !opts.previous
        ? undefined
        : await sincePrevious(manifest, opts.manifest, opts);
    const packageDiff = opts.previousPackages
      ? await packageDiffForLeg(manifest, opts.manifest, opts.previousPackages, opts.packages)
      : changes?.packages;
    const previous = changes ? { ...changes.previous, currentSize: changes.imageSize } : undefined;
    ({ summary, mattermostText: text } = await reportLeg(manifest, { artifactUrls, packageDiff, previous }));
  } else {
    const files = await findManifestFiles(opts.manifests!);
    const manifests: LegManifest[] = [];
    for (const file of files) manifests.push(await readLegManifest(file));
    summary = renderRunSummary(manifests);
    text = renderRunMattermostText(manifests, { runUrl });
  }

  // --summary: into $GITHUB_STEP_SUMMARY, or stdout outside Actions; with neither flag: stdout.
  const appended = opts.summary ? appendJobSummary(summary) : false;
  const wantPrinted = opts.summary ? !appended : !opts.mattermost;
  if (wantPrinted && !opts.json) process.stdout.write(summary);

  let delivery: { payload: MattermostPayload; result: NotifyResult } | undefined;
  if (webhook) {
    const payload = mattermostPayload(text);
    const result = await postMattermost(webhook, payload, { onRetry: (line) => warn(line) });
    delivery = { payload, result };
  }

  if (opts.json) {
    printJson({
      summary,
      ...(delivery
        ? {
            mattermost: {
              delivered: delivery.result.ok,
              attempts: delivery.result.attempts,
              ...(delivery.result.status !== undefined ? { status: delivery.result.status } : {}),
              ...(delivery.result.error ? { error: delivery.result.error } : {}),
              payload: delivery.payload,
            },
          }
        : {}),
    });
  }
  if (delivery?.result.ok && !opts.json) {
    const { target, attempts } = delivery.result;
    process.stderr.write(
      `cloud-images: Mattermost message delivered to ${target} (${attempts} ${attempts === 1 ? "attempt" : "attempts"})\n`,
    );
  }
  if (delivery && !delivery.result.ok) {
    process.stderr.write(`cloud-images: error: ${delivery.result.error}\n`);
    return 1;
  }
  return 0;
}
