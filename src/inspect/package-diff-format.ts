/** A package diff as text for a terminal and as Markdown for a job summary. */
import type { PackageDiff, PackageVersion, VersionedName } from "./package-diff.js";
import { formatEvr } from "./rpmvercmp.js";

export interface DiffLabels {
  readonly old: string;
  readonly new: string;
}

function versionText(v: PackageVersion): string {
  return `${formatEvr(v)}${v.arch !== null ? `.${v.arch}` : ""}`;
}

function summary(diff: PackageDiff): string {
  const parts = [`${diff.added.length} added`, `${diff.removed.length} removed`];
  if (diff.versionsCompared) parts.push(`${diff.changed.length} changed`);
  return `${diff.oldCount} → ${diff.newCount} packages: ${parts.join(", ")}`;
}

/** Names with versions when known, else bare names. */
function entries(names: readonly string[], detailed: readonly VersionedName[], compared: boolean): string[] {
  return compared ? detailed.map((p) => `${p.name} ${versionText(p)}`) : [...names];
}

export function formatPackageDiffText(diff: PackageDiff, labels: DiffLabels): string {
  const lines = [`--- ${labels.old}`, `+++ ${labels.new}`, summary(diff)];
  if (!diff.versionsCompared) lines.push("(versions not compared: a side is a bare name list)");
  const added = entries(diff.added, diff.addedPackages, diff.versionsCompared);
  const removed = entries(diff.removed, diff.removedPackages, diff.versionsCompared);
  if (added.length > 0) lines.push(`Added (${added.length}):`, ...added.map((e) => `  + ${e}`));
  if (removed.length > 0) lines.push(`Removed (${removed.length}):`, ...removed.map((e) => `  - ${e}`));
  if (diff.changed.length > 0) {
    lines.push(`Changed (${diff.changed.length}):`);
    for (const c of diff.changed) {
      lines.push(
        `  ~ ${c.name} ${versionText(c.from)} → ${versionText(c.to)}${c.direction === "upgrade" ? "" : ` (${c.direction})`}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

export function formatPackageDiffMarkdown(diff: PackageDiff, labels: DiffLabels): string {
  const lines = [`### Package changes`, "", `${code(labels.old)} → ${code(labels.new)}: ${summary(diff)}`];
  if (!diff.versionsCompared) lines.push("", "_Versions not compared: a side is a bare name list._");
  const list = (title: string, names: readonly string[], detailed: readonly VersionedName[]) => {
    if (names.length === 0) return;
    lines.push("", `**${title} (${names.length})**`, "");
    if (diff.versionsCompared)
      for (const p of detailed) lines.push(`- ${code(p.name)} ${cell(versionText(p))}`);
    else for (const n of names) lines.push(`- ${code(n)}`);
  };
  list("Added", diff.added, diff.addedPackages);
  list("Removed", diff.removed, diff.removedPackages);
  if (diff.changed.length > 0) {
    lines.push(
      "",
      `**Changed (${diff.changed.length})**`,
      "",
      "| Package | Old | New | |",
      "|---|---|---|---|",
    );
    for (const c of diff.changed) {
      lines.push(
        `| ${code(c.name)} | ${cell(versionText(c.from))} | ${cell(versionText(c.to))} | ${c.direction} |`,
      );
    }
  }
  if (diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0) {
    lines.push("", "No changes.");
  }
  return `${lines.join("\n")}\n`;
}
