/**
 * Reports one leg: renders the job summary and the Mattermost message from its manifest, appends the
 * summary to $GITHUB_STEP_SUMMARY when asked (and set), and posts the message when a webhook is given.
 * A failed post is returned, not thrown: a notification never fails a build.
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { appendJobSummary } from "../ci/github.js";
import { UsageError } from "../errors.js";
import { readInputFile } from "../files.js";
import {
  diffPackageNames,
  type PackageDiff,
  type PackageNameDiff,
  parsePackageNames,
} from "../inspect/package-diff.js";
import type { LegManifest } from "../manifest/manifest.js";
import { legLinks, workflowRunUrl } from "./links.js";
import {
  type MattermostPayload,
  mattermostPayload,
  type NotifyResult,
  postMattermost,
} from "./mattermost.js";
import { type PreviousBuildInfo, renderJobSummary, renderMattermostText } from "./render.js";

export interface LegReportOptions {
  /** GitHub artifact URLs by file name, when the files went to artifacts. */
  readonly artifactUrls?: Readonly<Record<string, string>> | undefined;
  readonly packageDiff?: PackageNameDiff | PackageDiff | undefined;
  /** The previous build the diff is against (found in the store's index). */
  readonly previous?: PreviousBuildInfo | undefined;
  /** Append the summary to $GITHUB_STEP_SUMMARY (when it is set). */
  readonly appendSummary?: boolean | undefined;
  /** Post to this Mattermost webhook. */
  readonly webhookUrl?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly onRetry?: ((line: string) => void) | undefined;
}

export interface LegReport {
  readonly summary: string;
  readonly mattermostText: string;
  /** True when the summary went into $GITHUB_STEP_SUMMARY. */
  readonly appended: boolean;
  readonly delivery?: { readonly payload: MattermostPayload; readonly result: NotifyResult };
}

export async function reportLeg(manifest: LegManifest, options: LegReportOptions = {}): Promise<LegReport> {
  const env = options.env ?? process.env;
  const links = legLinks(manifest, options.artifactUrls ?? {});
  const { packageDiff, previous } = options;
  const summary = renderJobSummary(manifest, { links, packageDiff, previous });
  const mattermostText = renderMattermostText(manifest, {
    links,
    packageDiff,
    previous,
    runUrl: workflowRunUrl(env),
  });
  const appended = options.appendSummary ? appendJobSummary(summary) : false;
  if (!options.webhookUrl) return { summary, mattermostText, appended };
  const payload = mattermostPayload(mattermostText, env);
  const result = await postMattermost(options.webhookUrl, payload, { onRetry: options.onRetry });
  return { summary, mattermostText, appended, delivery: { payload, result } };
}

async function readNames(path: string, what: string): Promise<string[]> {
  return parsePackageNames((await readInputFile(path, { what })).toString("utf8"));
}

/**
 * The diff between a previous package list and this leg's: `current` or, when absent, the list the
 * manifest records (relative paths are taken from the manifest's directory).
 */
export async function packageDiffForLeg(
  manifest: LegManifest,
  manifestPath: string,
  previous: string,
  current?: string,
): Promise<PackageNameDiff> {
  const recorded = manifest.verdict?.packagesFile;
  const list =
    current ??
    (recorded ? (isAbsolute(recorded) ? recorded : resolve(dirname(manifestPath), recorded)) : undefined);
  if (!list) {
    throw new UsageError(
      "the manifest records no package list: pass --packages FILE with --previous-packages",
    );
  }
  return diffPackageNames(
    await readNames(previous, "previous package list"),
    await readNames(list, "package list"),
  );
}
