/**
 * Waivers: a known, accepted defect of one check (optionally only for one path or package), with a
 * reason and a last day. A waived failure becomes a warning; after its last day a waiver no longer
 * applies, and the check's message says that it expired.
 */
import { matchesPath } from "./glob.js";
import type { CheckName, Finding, Waiver } from "./types.js";

/** Today's date in UTC as YYYY-MM-DD. */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function isExpired(waiver: Waiver, today: string): boolean {
  return waiver.expires < today;
}

/** Does `waiver` cover this finding? A waiver naming no path or package covers every finding. */
export function waiverCovers(waiver: Waiver, finding: Finding | undefined): boolean {
  if (waiver.path === undefined && waiver.package === undefined) return true;
  const subject = finding?.subject;
  if (subject === undefined) return false;
  if (waiver.package !== undefined) return subject === waiver.package;
  return matchesPath(subject, waiver.path!);
}

export interface WaiverOutcome {
  /** Findings no live waiver covers. */
  readonly remaining: readonly Finding[];
  /** The live waivers that covered something. */
  readonly applied: readonly Waiver[];
  /** Expired waivers that would have covered something. */
  readonly expired: readonly Waiver[];
  /** True when the whole check is waived (a failure without findings, covered by a subject-less waiver). */
  readonly wholeCheck: boolean;
}

/** Applies the waivers of `check` to its findings (or, for a failure without findings, to the check). */
export function applyWaivers(
  check: CheckName,
  findings: readonly Finding[] | undefined,
  waivers: readonly Waiver[],
  today: string,
): WaiverOutcome {
  const mine = waivers.filter((w) => w.check === check);
  const live = mine.filter((w) => !isExpired(w, today));
  const dead = mine.filter((w) => isExpired(w, today));
  const applied = new Set<Waiver>();
  const expired = new Set<Waiver>();
  if (findings === undefined || findings.length === 0) {
    const whole = live.find((w) => waiverCovers(w, undefined));
    if (whole) applied.add(whole);
    for (const w of dead) if (waiverCovers(w, undefined)) expired.add(w);
    return { remaining: [], applied: [...applied], expired: [...expired], wholeCheck: whole !== undefined };
  }
  const remaining: Finding[] = [];
  for (const f of findings) {
    const w = live.find((x) => waiverCovers(x, f));
    if (w) applied.add(w);
    else {
      remaining.push(f);
      for (const x of dead) if (waiverCovers(x, f)) expired.add(x);
    }
  }
  return { remaining, applied: [...applied], expired: [...expired], wholeCheck: false };
}
