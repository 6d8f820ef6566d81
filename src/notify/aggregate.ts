/** All legs of one workflow run as one table: one job summary and one Mattermost message per run. */
import type { LegManifest } from "../manifest/manifest.js";
import { legLinks, testStatusLine } from "./links.js";

export interface RunRenderOptions {
  readonly runUrl?: string | undefined;
}

function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The first step that failed or was interrupted, if any (the leg stopped there). */
function failedStep(m: LegManifest): string | undefined {
  return m.steps.find((s) => s.status === "failed" || s.status === "interrupted")?.name;
}

function testsCell(m: LegManifest): string {
  const failed = failedStep(m);
  const line = testStatusLine(m.tests)
    .replace(/^Tests \((offline|boot)\) /, "$1 ")
    .replace(/^Tests /, "");
  return failed && failed !== "verify" && failed !== "test" ? `${failed} step failed ❌` : line;
}

function linksCell(m: LegManifest): string {
  const links = legLinks(m);
  const parts: string[] = [];
  if (links.image) parts.push(`[image](${links.image.url})`);
  if (links.checksum) parts.push(`[sha256sum](${links.checksum.url})`);
  if (links.packages) parts.push(`[packages](${links.packages.url})`);
  if (links.sbom) parts.push(`[sbom](${links.sbom.url})`);
  return parts.length > 0 ? parts.join(" · ") : "—";
}

function legName(m: LegManifest): string {
  return `${m.leg.type} ${m.leg.variant} ${m.leg.arch}`;
}

/** Legs ordered by type, variant and arch, so the table reads the same whatever order files were found in. */
export function sortLegs(manifests: readonly LegManifest[]): LegManifest[] {
  return [...manifests].sort((a, b) => legName(a).localeCompare(legName(b), "en"));
}

function passed(m: LegManifest): boolean {
  return !failedStep(m) && m.tests.offline !== "failed" && m.tests.boot !== "failed";
}

function headline(manifests: readonly LegManifest[]): string {
  const stamps = [...new Set(manifests.map((m) => m.timeStamp))].sort();
  const ok = manifests.filter(passed).length;
  const failed = manifests.length - ok;
  const legs = `${manifests.length} ${manifests.length === 1 ? "leg" : "legs"}`;
  return `**AlmaLinux OS cloud images** build ${stamps.map((s) => `\`${s}\``).join(", ")}: ${legs}, ${ok} passed${failed > 0 ? `, ${failed} failed ❌` : ""}`;
}

export function renderRunTable(manifests: readonly LegManifest[]): string {
  const rows = sortLegs(manifests).map((m) => {
    const sha = m.image?.sha256 ? `\`${m.image.sha256.slice(0, 12)}\`` : "—";
    return [
      legName(m),
      m.image?.name ?? "—",
      m.image ? formatSize(m.image.size) : "—",
      sha,
      testsCell(m),
      linksCell(m),
    ].map(cell);
  });
  const header = ["Leg", "Image", "Size", "SHA-256", "Tests", "Links"];
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export function renderRunSummary(manifests: readonly LegManifest[]): string {
  return `${headline(manifests)}\n\n${renderRunTable(manifests)}\n`;
}

export function renderRunMattermostText(
  manifests: readonly LegManifest[],
  options: RunRenderOptions = {},
): string {
  const by = options.runUrl ? `, by the GitHub [Action](${options.runUrl})` : "";
  return `:almalinux: ${headline(manifests)}${by}\n\n${renderRunTable(manifests)}`;
}
