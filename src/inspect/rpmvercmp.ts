/**
 * rpm's version ordering (rpmvercmp): strings split into runs of digits and of letters, other
 * characters only separate; digits compare numerically and beat letters; `~` sorts before anything
 * (even the end), `^` after the end but before anything else.
 */

const isDigit = (c: string) => c >= "0" && c <= "9";
const isAlpha = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isAlnum = (c: string) => isDigit(c) || isAlpha(c);

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** -1, 0 or 1, as rpm's rpmvercmp(a, b). */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== "~" && a[i] !== "^") i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== "~" && b[j] !== "^") j++;
    const ca = a[i] ?? "";
    const cb = b[j] ?? "";
    if (ca === "~" || cb === "~") {
      if (ca !== "~") return 1;
      if (cb !== "~") return -1;
      i++;
      j++;
      continue;
    }
    if (ca === "^" || cb === "^") {
      if (ca === "") return -1;
      if (cb === "") return 1;
      if (ca !== "^") return 1;
      if (cb !== "^") return -1;
      i++;
      j++;
      continue;
    }
    if (ca === "" || cb === "") break;
    const numeric = isDigit(ca);
    const inRun = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && inRun(a[ei]!)) ei++;
    while (ej < b.length && inRun(b[ej]!)) ej++;
    // A run of the other kind on one side: numbers are newer than letters.
    if (ej === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, "");
      sb = sb.replace(/^0+/, "");
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    const rc = byteCompare(sa, sb);
    if (rc !== 0) return rc;
    i = ei;
    j = ej;
  }
  const endA = i >= a.length;
  const endB = j >= b.length;
  if (endA && endB) return 0;
  return endA ? -1 : 1;
}

export interface Evr {
  readonly epoch: number | null;
  readonly version: string;
  readonly release: string;
}

/** Orders epoch (none = 0), then version, then release, as rpm does. */
export function compareEvr(a: Evr, b: Evr): number {
  const ea = a.epoch ?? 0;
  const eb = b.epoch ?? 0;
  if (ea !== eb) return ea < eb ? -1 : 1;
  return rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

/** `[epoch:]version-release`. */
export function formatEvr(v: Evr): string {
  return `${v.epoch === null ? "" : `${v.epoch}:`}${v.version}-${v.release}`;
}
