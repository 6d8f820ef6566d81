/**
 * Differences between two installed-package name lists in the seed's format (`rpm -qa --qf
 * '%{NAME}\n' | sort`: one name per line, duplicates kept, e.g. two `gpg-pubkey` entries). Names are
 * compared as multisets, so a duplicate that appears or disappears counts as added or removed.
 */

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
