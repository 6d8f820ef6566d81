/**
 * The seed's two messages for one leg, rendered from its manifest:
 * - the GitHub job summary (actions/github-script: `core.summary.addRaw(...)` and `addLink(...)`,
 *   so links are `<a href>` lines), and
 * - the Mattermost message (a markdown list), with the run link and, for artifacts, `[zipped]` labels.
 */
import type { PackageDiff, PackageNameDiff } from "../inspect/package-diff.js";
import { formatEvr } from "../inspect/rpmvercmp.js";
import type { LegManifest } from "../manifest/manifest.js";
import { type LegLinks, type Link, testStatusLine } from "./links.js";

export interface RenderOptions {
  readonly links: LegLinks;
  /** Against the previous build's package list (with version changes when both sides had versions). */
  readonly packageDiff?: PackageNameDiff | PackageDiff | undefined;
  /** The previous build the diff is against, when it was found in the store's index. */
  readonly previous?: PreviousBuildInfo | undefined;
}

export interface PreviousBuildInfo {
  readonly timeStamp: string;
  readonly release: string;
  readonly imageSize?: number | undefined;
  /** This build's image size. */
  readonly currentSize?: number | undefined;
}

export interface MattermostRenderOptions extends RenderOptions {
  /** The workflow run (`…/actions/runs/ID`); the message links to it when known. */
  readonly runUrl?: string | undefined;
}

/** `**AlmaLinux release 9.6 x86_64** Gencloud Image build `20260220143000``. */
export function headline(manifest: LegManifest): string {
  const r = manifest.resolved;
  return `**${r.releaseString} ${r.almaArch}** ${r.imageType} Image build \`${manifest.timeStamp}\``;
}

const SUMMARY_LINK_HEADINGS: Record<LegLinks["kind"], string> = {
  s3: "S3 Bucket download URLs:",
  file: "Local store files:",
  artifact: "GitHub artifacts [zipped]:",
  none: "",
};

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const MARK: Record<string, string> = { fail: "FAIL ❌", warn: "WARN ⚠️", skip: "SKIP" };
/** Longest check message shown in a message (the manifest keeps the whole one). */
const MAX_CHECK_MESSAGE = 300;

/** One line per check of the verdict that did not pass: `FAIL ❌ `sshd`: PermitRootLogin is yes (...)`. */
export function notPassedChecks(manifest: LegManifest): string[] {
  return (manifest.verdict?.checks ?? [])
    .filter((c) => c.status !== "pass")
    .map((c) => {
      const text =
        c.message.length > MAX_CHECK_MESSAGE ? `${c.message.slice(0, MAX_CHECK_MESSAGE)}…` : c.message;
      return `${MARK[c.status]} \`${c.name}\`: ${text.replace(/\s+/g, " ")}`;
    });
}

/** The job summary, in the seed's order: image, checksum, package list (then our SBOM); the test line. */
export function renderJobSummary(manifest: LegManifest, options: RenderOptions): string {
  const lines = [headline(manifest)];
  const { links } = options;
  const present = [links.image, links.checksum, links.packages, links.sbom].filter(
    (l): l is Link => l !== undefined,
  );
  if (present.length > 0) {
    lines.push(SUMMARY_LINK_HEADINGS[links.kind]);
    for (const l of present) lines.push(`<a href="${escapeHtml(l.url)}">${escapeHtml(l.name)}</a>`);
  }
  lines.push(testStatusLine(manifest.tests));
  const checks = notPassedChecks(manifest);
  if (checks.length > 0) lines.push("", "Checks not passed:", ...checks.map((c) => `- ${escapeHtml(c)}`));
  let text = `${lines.join("\n")}\n`;
  if (options.previous) text += `\n${renderPreviousBuild(options.previous)}`;
  if (options.packageDiff) text += `${options.previous ? "" : "\n"}${renderPackageDiff(options.packageDiff)}`;
  return text;
}

/** The Mattermost text, in the seed's order: checksum, image, package list (then our SBOM); `- Tests …`. */
export function renderMattermostText(manifest: LegManifest, options: MattermostRenderOptions): string {
  const by = options.runUrl ? `, by the GitHub [Action](${options.runUrl})` : "";
  const lines = [`:almalinux: ${headline(manifest)}${by}`];
  const { links } = options;
  const zipped = links.kind === "artifact" ? " [zipped]" : "";
  const item = (label: string, link: Link | undefined) => {
    if (link) lines.push(`- ${label}${zipped}: [${link.name}](${link.url})`);
  };
  item("CHECKSUM(SHA256)", links.checksum);
  item("Image", links.image);
  item("Packages list", links.packages);
  item("SBOM (CycloneDX)", links.sbom);
  lines.push(`- ${testStatusLine(manifest.tests)}`);
  for (const c of notPassedChecks(manifest)) lines.push(`  - ${c}`);
  let text = lines.join("\n");
  if (options.previous) text += `\n\n${renderPreviousBuild(options.previous).trimEnd()}`;
  if (options.packageDiff) {
    text += `${options.previous ? "\n" : "\n\n"}${renderPackageDiff(options.packageDiff).trimEnd()}`;
  }
  return text;
}

/** Longest name list shown in a message; Mattermost posts are limited to 16383 characters. */
export const MAX_LISTED_PACKAGES = 100;

function nameList(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED_PACKAGES).map((n) => `\`${n}\``);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(", ")} … and ${more} more` : shown.join(", ");
}

function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${bytes < 0 ? "-" : ""}${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** `**Since the previous build** `STAMP` (release R): image A → B (+C)`. */
export function renderPreviousBuild(previous: PreviousBuildInfo): string {
  let line = `**Since the previous build** \`${previous.timeStamp}\` (release ${previous.release})`;
  if (previous.imageSize !== undefined && previous.currentSize !== undefined) {
    const delta = previous.currentSize - previous.imageSize;
    line += `: image ${size(previous.imageSize)} → ${size(previous.currentSize)} (${delta >= 0 ? "+" : ""}${size(delta)})`;
  }
  return `${line}\n`;
}

export function renderPackageDiff(diff: PackageNameDiff | PackageDiff): string {
  const versions = "versionsCompared" in diff && diff.versionsCompared ? diff : undefined;
  const changed = versions ? versions.changed : [];
  const upgraded = changed.filter((c) => c.direction === "upgrade");
  const otherChanges = changed.filter((c) => c.direction !== "upgrade");
  if (diff.added.length === 0 && diff.removed.length === 0 && changed.length === 0) {
    return `**Packages** compared with the previous build: no change (${diff.newCount} packages)\n`;
  }
  const counts = [`${diff.added.length} added`, `${diff.removed.length} removed`];
  if (versions) counts.push(`${upgraded.length} upgraded`);
  if (otherChanges.length > 0) counts.push(`${otherChanges.length} downgraded or rebuilt`);
  const lines = [
    `**Packages** compared with the previous build: ${diff.oldCount} → ${diff.newCount}, ${counts.join(", ")}`,
  ];
  const added = versions ? versions.addedPackages.map((p) => `${p.name} ${formatEvr(p)}`) : diff.added;
  const removed = versions ? versions.removedPackages.map((p) => `${p.name} ${formatEvr(p)}`) : diff.removed;
  if (added.length > 0) lines.push(`- Added (${added.length}): ${nameList(added)}`);
  if (removed.length > 0) lines.push(`- Removed (${removed.length}): ${nameList(removed)}`);
  const change = (c: PackageDiff["changed"][number]) => `${c.name} ${formatEvr(c.from)} → ${formatEvr(c.to)}`;
  if (upgraded.length > 0) lines.push(`- Upgraded (${upgraded.length}): ${nameList(upgraded.map(change))}`);
  if (otherChanges.length > 0) {
    lines.push(
      `- Downgraded or rebuilt (${otherChanges.length}): ${nameList(otherChanges.map((c) => `${change(c)} (${c.direction})`))}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
