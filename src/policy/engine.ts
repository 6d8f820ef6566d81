/**
 * Runs a policy over an opened image: for each check the policy configures, in a fixed order, read what
 * it needs, evaluate, apply severity and waivers, and render one CheckResult.
 */
import { CloudImagesError } from "../errors.js";
import type { CheckResult } from "../inspect/verdict.js";
import { timedAsync } from "../phases.js";
import type { PolicyCheck } from "./check.js";
import { CHECKS } from "./checks/index.js";
import type { CheckRule, Evaluation, Finding, Policy, PolicyLeg, RuleMeta, Waiver, When } from "./types.js";
import type { ImageView } from "./view.js";
import { applyWaivers, todayUtc } from "./waivers.js";

export interface RunPolicyOptions {
  /** Also run the checks marked deep (file-integrity); without it they are left out of the results. */
  readonly deep?: boolean;
  readonly waivers?: readonly Waiver[];
  /** YYYY-MM-DD; default today in UTC (waiver expiry). */
  readonly today?: string;
  /** Told when each check starts (progress on long, deep runs). */
  readonly onCheck?: (name: string) => void;
}

/** Findings listed in a message; the rest are counted. */
const LISTED_FINDINGS = 5;
/** Subjects listed in `found`. */
const LISTED_SUBJECTS = 50;

export function whenMatches(when: When | undefined, leg: PolicyLeg): boolean {
  if (!when) return true;
  const test = (allowed: readonly string[] | undefined, value: string | undefined) =>
    allowed === undefined || (value !== undefined && allowed.includes(value));
  return (
    test(when.type, leg.type) &&
    test(when.version, leg.version) &&
    test(when.major, leg.major) &&
    test(when.arch, leg.arch) &&
    test(when.kernel, leg.kernel)
  );
}

/** The rule as the check sees it: list items that do not apply to the leg (or were removed) dropped. */
export function applicableRule(check: PolicyCheck, rule: CheckRule, leg: PolicyLeg): CheckRule {
  const out: Record<string, unknown> = { ...rule };
  for (const param of Object.keys(check.lists ?? {})) {
    const items = rule[param];
    if (!Array.isArray(items)) continue;
    out[param] = items.filter((i: RuleMeta) => i.remove !== true && whenMatches(i.when, leg));
  }
  return out as CheckRule;
}

export async function runPolicy(
  view: ImageView,
  policy: Policy,
  leg: PolicyLeg,
  options: RunPolicyOptions = {},
): Promise<CheckResult[]> {
  const today = options.today ?? todayUtc();
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const rule = policy.checks[check.name];
    if (!rule || rule.severity === "off") continue;
    if (check.deep && !options.deep) continue;
    options.onCheck?.(check.name);
    const applicable = applicableRule(check, rule, leg);
    let evaluation: Evaluation;
    try {
      // CLOUD_IMAGES_STATS=1 shows each check's time as ms.policy.NAME
      evaluation = await timedAsync(`policy.${check.name}`, async () =>
        check.evaluate(await check.gather(view, applicable, leg), applicable, leg),
      );
    } catch (e) {
      if (!(e instanceof CloudImagesError)) throw e;
      evaluation = { status: "fail", message: `could not be checked: ${e.message}` };
    }
    results.push(render(check.name, evaluation, rule, options.waivers ?? [], today));
  }
  return results;
}

function listed(findings: readonly Finding[]): string {
  const shown = findings.slice(0, LISTED_FINDINGS).map((f) => f.message);
  const more = findings.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; … and ${more} more` : shown.join("; ");
}

function subjects(findings: readonly Finding[]): string | undefined {
  if (findings.length === 0 || findings.some((f) => f.subject === undefined)) return undefined;
  const names = [...new Set(findings.map((f) => f.subject!))];
  const shown = names.slice(0, LISTED_SUBJECTS);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(", ")} … and ${more} more` : shown.join(", ");
}

function waiverText(w: Waiver): string {
  return `${w.reason} (${w.origin}, until ${w.expires})`;
}

/** Severity, waivers and the one-line message of a check's evaluation. */
export function render(
  name: string,
  ev: Evaluation,
  rule: CheckRule,
  waivers: readonly Waiver[],
  today: string,
): CheckResult {
  const base = {
    name,
    ...(ev.expected !== undefined ? { expected: ev.expected } : {}),
  };
  if (ev.status !== "fail") {
    return {
      ...base,
      status: ev.status,
      ...(ev.found !== undefined ? { found: ev.found } : {}),
      message: ev.message,
    };
  }
  const findings = ev.findings ?? [];
  const w = applyWaivers(name as Waiver["check"], ev.findings, waivers, today);
  const expiredNote = w.expired.length
    ? ` [${w.expired.map((x) => `waiver ${x.origin} expired on ${x.expires}, no longer applies`).join("; ")}]`
    : "";
  const failed = rule.severity === "warn" ? "warn" : "fail";
  if (findings.length === 0) {
    if (w.wholeCheck) {
      return {
        ...base,
        status: "warn",
        ...(ev.found !== undefined ? { found: ev.found } : {}),
        message: `waived: ${ev.message} — ${w.applied.map(waiverText).join("; ")}`,
      };
    }
    return {
      ...base,
      status: failed,
      ...(ev.found !== undefined ? { found: ev.found } : {}),
      message: `${ev.message}${expiredNote}`,
    };
  }
  if (w.remaining.length === 0) {
    return {
      ...base,
      status: "warn",
      found: ev.found ?? subjects(findings) ?? `${findings.length} waived`,
      message: `waived: ${listed(findings)} — ${w.applied.map(waiverText).join("; ")}`,
    };
  }
  const waivedCount = findings.length - w.remaining.length;
  const waivedNote = waivedCount > 0 ? ` (${waivedCount} more waived)` : "";
  // the check's own summary of what it found, else the subjects of the findings still failing
  const found = ev.found ?? subjects(w.remaining);
  return {
    ...base,
    status: failed,
    ...(found !== undefined ? { found } : {}),
    message: `${listed(w.remaining)}${waivedNote}${expiredNote}`,
  };
}
