/** The release job's summary (Markdown): what was signed, attested and indexed, and what was not released. */
import type { ReleaseResult } from "./release.js";

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

export function renderReleaseSummary(result: ReleaseResult): string {
  const lines = [`### Release: ${result.legs.length} image(s) in ${code(result.store)}`, ""];
  lines.push("| Folder | Files | CHECKSUM signature |", "|---|---|---|");
  for (const f of result.folders) {
    lines.push(
      `| ${code(f.prefix || "/")} | ${f.files.length} | ${f.signedBy ? `✅ ${code(f.signedBy)}` : "⚠️ unsigned"} |`,
    );
  }
  const bundles = result.legs.flatMap((l) => l.bundles).length;
  lines.push(
    "",
    bundles > 0
      ? `Sigstore bundles: ${bundles} (provenance and test results per image)`
      : "Sigstore bundles: none ⚠️",
  );
  if (result.index.length > 0) lines.push("", `Index: ${result.index.map(code).join(", ")}`);
  if (result.skipped.length > 0) {
    lines.push("", "Not released:", "");
    for (const s of result.skipped) lines.push(`- ${s.leg}: ${s.reason}`);
  }
  return `${lines.join("\n")}\n`;
}
