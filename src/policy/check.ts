/** What a policy check is: a read of the image (gather) and a pure function over what was read (evaluate). */
import type { CheckName, CheckRule, Evaluation, PolicyLeg } from "./types.js";
import type { ImageView } from "./view.js";

export interface PolicyCheck<R extends CheckRule = CheckRule, F = unknown> {
  readonly name: CheckName;
  /** One line: what the check requires. */
  readonly summary: string;
  /** Runs only with --deep. */
  readonly deep?: boolean;
  /**
   * List parameters, merged item by item across policy layers (built-in common, built-in type,
   * --policy): parameter name → the item field that identifies an item.
   */
  readonly lists?: Readonly<Record<string, string>>;
  /** Reads what the check needs; "not there" is a fact, not an error. */
  gather(view: ImageView, rule: R, leg: PolicyLeg): Promise<F>;
  /** Pure: the verdict from what was read and the rule (list items already filtered by `when`). */
  evaluate(facts: F, rule: R, leg: PolicyLeg): Evaluation;
}

/** Erases a check's own rule and fact types so checks of every kind sit in one registry. */
export function defineCheck<R extends CheckRule, F>(check: PolicyCheck<R, F>): PolicyCheck {
  return check as unknown as PolicyCheck;
}

/** A passing evaluation, or a failing one listing the findings. */
export function verdictOf(
  findings: Evaluation["findings"] & {},
  pass: string,
  extra: { expected?: string; found?: string } = {},
): Evaluation {
  if (findings.length === 0) return { status: "pass", message: pass, ...extra };
  return { status: "fail", message: findings.map((f) => f.message).join("; "), findings, ...extra };
}
