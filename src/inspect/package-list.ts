/**
 * Installed-package lists as files: the seed's name list (`rpm -qa --queryformat '%{NAME}\n' | sort`
 * in the C locale), NEVRA lines, and JSON package records; written atomically.
 */
import { compareC, type InstalledPackage, nevra } from "../rpm/package.js";

/** The seed's list: one name a line, byte order, duplicates kept, a trailing newline (empty: ""). */
export function packageNamesText(names: readonly string[]): string {
  const sorted = [...names].sort(compareC);
  return sorted.map((n) => `${n}\n`).join("");
}

/** `name-[epoch:]version-release[.arch]` per package, byte order, one a line. */
export function packageNevraText(packages: readonly InstalledPackage[]): string {
  return packages
    .map(nevra)
    .sort(compareC)
    .map((l) => `${l}\n`)
    .join("");
}

/** Packages ordered by name, then by the rest of their NEVRA, in byte order. */
export function sortPackages(packages: readonly InstalledPackage[]): InstalledPackage[] {
  return [...packages].sort((a, b) => compareC(a.name, b.name) || compareC(nevra(a), nevra(b)));
}

/** The default package-list file of an image: `IMAGE.txt` beside it. */
export function defaultPackagesFile(imagePath: string): string {
  return `${imagePath}.txt`;
}
