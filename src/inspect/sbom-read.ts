/**
 * The installed packages an SBOM lists, read back (for diffs against an earlier build): CycloneDX as
 * `sbom` writes it, from each component's purl (`pkg:rpm/NS/NAME@VERSION-RELEASE?arch=…&epoch=…`),
 * which carries name, epoch, version, release and arch unambiguously. Pure.
 */
import { UsageError } from "../errors.js";
import type { ListedPackage } from "./package-diff.js";

const RPM_PURL = /^pkg:rpm\/[^/]+\/([^@?#]+)@([^?#]+)(?:\?([^#]*))?/;

/** One purl's package, or undefined when it is not an rpm purl with a version. */
export function packageFromPurl(purl: string): ListedPackage | undefined {
  const m = RPM_PURL.exec(purl);
  if (!m) return undefined;
  const evr = decodeURIComponent(m[2]!);
  const dash = evr.lastIndexOf("-");
  if (dash <= 0) return undefined;
  const qualifiers = new URLSearchParams(m[3] ?? "");
  const epoch = qualifiers.get("epoch");
  return {
    name: decodeURIComponent(m[1]!),
    epoch: epoch !== null && /^[0-9]+$/.test(epoch) ? Number(epoch) : null,
    version: evr.slice(0, dash),
    release: evr.slice(dash + 1),
    arch: qualifiers.get("arch"),
  };
}

/** The rpm components of a CycloneDX document; a document without any is a UsageError naming `what`. */
export function packagesFromCycloneDx(json: unknown, what: string): ListedPackage[] {
  const doc = json as { bomFormat?: unknown; components?: unknown } | null;
  if (doc?.bomFormat !== "CycloneDX" || !Array.isArray(doc.components)) {
    throw new UsageError(`${what} is not a CycloneDX SBOM`);
  }
  const packages: ListedPackage[] = [];
  for (const c of doc.components as { purl?: unknown }[]) {
    const p = typeof c?.purl === "string" ? packageFromPurl(c.purl) : undefined;
    if (p) packages.push(p);
  }
  return packages;
}
