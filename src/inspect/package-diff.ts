/**
 * Differences between two installed-package name lists in the seed's format (`rpm -qa --qf
 * '%{NAME}\n' | sort`: one name per line, duplicates kept, e.g. two `gpg-pubkey` entries). Names are
 * compared as multisets, so a duplicate that appears or disappears counts as added or removed.
 * diffPackages adds version changes when both sides carry versions (JSON package lists, images).
 */
import { compareEvr } from "./rpmvercmp.js";

export interface PackageNameDiff {
  /** Names in the new list and not the old one (one entry per extra occurrence), byte-wise sorted. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Lines in each list, duplicates included. */
  readonly oldCount: number;
  readonly newCount: number;
  /** Occurrences present in both. */
  readonly unchanged: number;
}

/** One name per line; blank lines and surrounding white space are ignored. */
export function parsePackageNames(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

function counts(names: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

/** Byte-wise order (`LC_ALL=C sort`), independent of the locale the lists were sorted in. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function diffPackageNames(oldNames: readonly string[], newNames: readonly string[]): PackageNameDiff {
  const before = counts(oldNames);
  const after = counts(newNames);
  const added: string[] = [];
  const removed: string[] = [];
  let unchanged = 0;
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const o = before.get(name) ?? 0;
    const n = after.get(name) ?? 0;
    unchanged += Math.min(o, n);
    for (let i = o; i < n; i++) added.push(name);
    for (let i = n; i < o; i++) removed.push(name);
  }
  return {
    added: added.sort(byteOrder),
    removed: removed.sort(byteOrder),
    oldCount: oldNames.length,
    newCount: newNames.length,
    unchanged,
  };
}

/** One side of a diff as far as it is known: a name, and the version when the list carries one. */
export interface ListedPackage {
  readonly name: string;
  readonly epoch?: number | null;
  readonly version?: string;
  readonly release?: string;
  readonly arch?: string | null;
}

export interface PackageVersion {
  readonly epoch: number | null;
  readonly version: string;
  readonly release: string;
  readonly arch: string | null;
}

export interface PackageVersionChange {
  readonly name: string;
  readonly from: PackageVersion;
  readonly to: PackageVersion;
  /** By rpm's ordering of epoch, version, release; `rebuild` when only the arch differs. */
  readonly direction: "upgrade" | "downgrade" | "rebuild";
}

export interface VersionedName extends PackageVersion {
  readonly name: string;
}

/** A name diff plus version changes (only computed when both sides carry versions). */
export interface PackageDiff extends PackageNameDiff {
  /** Packages on both sides whose version (or arch) changed, byte-wise sorted by name. */
  readonly changed: readonly PackageVersionChange[];
  /** The `added` and `removed` names with their versions, same order (empty unless versionsCompared). */
  readonly addedPackages: readonly VersionedName[];
  readonly removedPackages: readonly VersionedName[];
  /** False when either side is a bare name list, so versions could not be compared. */
  readonly versionsCompared: boolean;
}

function versionOf(p: ListedPackage): PackageVersion | undefined {
  if (p.version === undefined || p.release === undefined) return undefined;
  return { epoch: p.epoch ?? null, version: p.version, release: p.release, arch: p.arch ?? null };
}

function sameVersion(a: PackageVersion, b: PackageVersion): boolean {
  return compareEvr(a, b) === 0 && a.arch === b.arch;
}

function orderVersions(a: PackageVersion, b: PackageVersion): number {
  return compareEvr(a, b) || byteOrder(a.arch ?? "", b.arch ?? "");
}

function groupVersions(list: readonly ListedPackage[]): Map<string, PackageVersion[]> {
  const m = new Map<string, PackageVersion[]>();
  for (const p of list) {
    const v = versionOf(p)!;
    const group = m.get(p.name);
    if (group) group.push(v);
    else m.set(p.name, [v]);
  }
  return m;
}

/**
 * Added and removed names (as diffPackageNames, so counts and duplicates behave the same) and, when
 * both sides carry versions, the version changes: per name, the instances found on one side only are
 * paired in version order; what is left over is what was added or removed.
 */
export function diffPackages(
  oldList: readonly ListedPackage[],
  newList: readonly ListedPackage[],
): PackageDiff {
  const names = diffPackageNames(
    oldList.map((p) => p.name),
    newList.map((p) => p.name),
  );
  const versioned = (list: readonly ListedPackage[]) => list.every((p) => versionOf(p) !== undefined);
  const versionsCompared = versioned(oldList) && versioned(newList);
  const changed: PackageVersionChange[] = [];
  const addedPackages: VersionedName[] = [];
  const removedPackages: VersionedName[] = [];
  if (versionsCompared) {
    const before = groupVersions(oldList);
    const after = groupVersions(newList);
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const onlyNew = [...(after.get(name) ?? [])];
      const onlyOld: PackageVersion[] = [];
      for (const o of before.get(name) ?? []) {
        const at = onlyNew.findIndex((n) => sameVersion(n, o));
        if (at >= 0) onlyNew.splice(at, 1);
        else onlyOld.push(o);
      }
      onlyOld.sort(orderVersions);
      onlyNew.sort(orderVersions);
      const pairs = Math.min(onlyOld.length, onlyNew.length);
      for (let i = 0; i < pairs; i++) {
        const from = onlyOld[i]!;
        const to = onlyNew[i]!;
        const c = compareEvr(from, to);
        changed.push({ name, from, to, direction: c < 0 ? "upgrade" : c > 0 ? "downgrade" : "rebuild" });
      }
      for (const v of onlyNew.slice(pairs)) addedPackages.push({ name, ...v });
      for (const v of onlyOld.slice(pairs)) removedPackages.push({ name, ...v });
    }
    const byName = (a: { name: string }, b: { name: string }) => byteOrder(a.name, b.name);
    changed.sort(byName);
    addedPackages.sort(byName);
    removedPackages.sort(byName);
  }
  return { ...names, changed, addedPackages, removedPackages, versionsCompared };
}
