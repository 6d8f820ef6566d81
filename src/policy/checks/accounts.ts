/** machine-id and passwords: what makes every instance of an image the same machine or an open door. */
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Finding } from "../types.js";
import { readText } from "../view.js";

export const MACHINE_ID_FILE = "/etc/machine-id";
export const SHADOW_FILE = "/etc/shadow";

export interface MachineIdRule extends CheckRule {
  /** Contents (after trimming) that leave the id to be made at first boot. */
  readonly allowed?: readonly string[];
}

export const machineId = defineCheck<MachineIdRule, string | null>({
  name: "machine-id",
  summary: "/etc/machine-id is absent, empty or `uninitialized`",
  gather: (view) => readText(view.tree, MACHINE_ID_FILE),
  evaluate(text, rule) {
    const allowed = rule.allowed ?? ["", "uninitialized"];
    const expected = `absent, ${allowed.map((a) => (a === "" ? "empty" : a)).join(" or ")}`;
    if (text === null) return { status: "pass", expected, found: "absent", message: `no ${MACHINE_ID_FILE}` };
    const value = text.trim();
    const found = value === "" ? "empty" : value;
    if (allowed.includes(value)) {
      return {
        status: "pass",
        expected,
        found,
        message: `${MACHINE_ID_FILE} is ${found}: made at first boot`,
      };
    }
    return {
      status: "fail",
      expected,
      found: found.slice(0, 64),
      message: `${MACHINE_ID_FILE} holds ${found.slice(0, 64)}: every instance would share this machine id`,
    };
  },
});

export interface PasswordsRule extends CheckRule {
  /** Accounts left out of the check. */
  readonly exceptUsers?: readonly string[];
}

/** A shadow password field no password can match: `!`, `!!`, `*`, or any hash locked with a leading `!`. */
export function isLocked(field: string): boolean {
  return field.startsWith("!") || field.startsWith("*");
}

export function evaluateShadow(text: string | null, rule: PasswordsRule) {
  if (text === null) {
    return {
      status: "fail" as const,
      found: "missing",
      message: `${SHADOW_FILE} does not exist or cannot be read`,
    };
  }
  const except = new Set(rule.exceptUsers ?? []);
  const findings: Finding[] = [];
  let accounts = 0;
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [user = "", field] = line.split(":");
    accounts++;
    if (except.has(user)) continue;
    if (field === undefined) {
      findings.push({ subject: user, message: `${SHADOW_FILE} line ${i + 1} has no password field` });
    } else if (field === "") {
      findings.push({ subject: user, message: `${user} has an empty password (anyone can log in)` });
    } else if (!isLocked(field)) {
      findings.push({ subject: user, message: `${user} has a password set` });
    }
  }
  return verdictOf(findings, `all ${accounts} accounts in ${SHADOW_FILE} are locked`, { expected: "locked" });
}

export const passwords = defineCheck<PasswordsRule, string | null>({
  name: "passwords",
  summary:
    "every /etc/shadow entry is locked (`!`, `!!`, `*` or a field starting with `!`); an empty field fails",
  gather: (view) => readText(view.tree, SHADOW_FILE),
  evaluate: evaluateShadow,
});
