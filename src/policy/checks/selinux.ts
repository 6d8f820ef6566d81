/**
 * selinux: /etc/selinux/config puts SELinux in the required mode and policy, and files carry labels
 * (the security.selinux extended attribute on a fixed sample, with the policy's type for each): an image
 * that was never relabelled boots with unlabelled files that an enforcing policy denies.
 */
import { xattrValue } from "../../fs/xattr.js";
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Finding, RuleMeta } from "../types.js";
import { readText } from "../view.js";

export const SELINUX_CONFIG = "/etc/selinux/config";
const LABEL_XATTR = "security.selinux";

export interface LabelSample extends RuleMeta {
  readonly path: string;
  /** The SELinux type the file must have (e.g. shadow_t); any valid label when absent. */
  readonly type?: string;
}

export interface SelinuxRule extends CheckRule {
  readonly mode?: string;
  readonly policyType?: string;
  readonly samples?: readonly LabelSample[];
}

export interface SelinuxFacts {
  /** /etc/selinux/config, or null when missing. */
  readonly config: string | null;
  /** Per sample: the label (without its NUL), null when the file has none, undefined when no such file. */
  readonly labels: ReadonlyMap<string, string | null | undefined>;
}

/** KEY=VALUE lines of a shell-style config file (quotes removed, comments skipped). */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return out;
}

/** user:role:type:level → type, or undefined when the label is not a security context. */
export function contextType(label: string): string | undefined {
  const m = /^[A-Za-z0-9_.]+:[A-Za-z0-9_.]+:([A-Za-z0-9_.]+)(:.+)?$/.exec(label);
  return m?.[1];
}

export function evaluateSelinux(facts: SelinuxFacts, rule: SelinuxRule) {
  const mode = rule.mode ?? "enforcing";
  const policyType = rule.policyType ?? "targeted";
  const findings: Finding[] = [];
  if (facts.config === null) {
    findings.push({
      subject: SELINUX_CONFIG,
      message: `${SELINUX_CONFIG} is missing (SELinux would be disabled)`,
    });
  } else {
    const kv = parseKeyValues(facts.config);
    if (kv.get("SELINUX") !== mode) {
      findings.push({
        subject: SELINUX_CONFIG,
        message: `${SELINUX_CONFIG} says SELINUX=${kv.get("SELINUX") ?? "(unset)"}, not ${mode}`,
      });
    }
    if (kv.get("SELINUXTYPE") !== policyType) {
      findings.push({
        subject: SELINUX_CONFIG,
        message: `${SELINUX_CONFIG} says SELINUXTYPE=${kv.get("SELINUXTYPE") ?? "(unset)"}, not ${policyType}`,
      });
    }
  }
  for (const s of rule.samples ?? []) {
    const label = facts.labels.get(s.path);
    if (label === undefined)
      findings.push({
        subject: s.path,
        message: `${s.path} is not in the image (its label cannot be checked)`,
      });
    else if (label === null) {
      findings.push({
        subject: s.path,
        message: `${s.path} has no SELinux label (the image was never relabelled)`,
      });
    } else {
      const type = contextType(label);
      if (type === undefined)
        findings.push({ subject: s.path, message: `${s.path} has a malformed SELinux label "${label}"` });
      else if (s.type !== undefined && type !== s.type) {
        findings.push({
          subject: s.path,
          message: `${s.path} is labelled ${label}, expected type ${s.type}`,
        });
      }
    }
  }
  const samples = (rule.samples ?? []).map((s) => s.path).join(", ");
  return verdictOf(findings, `SELINUX=${mode}, SELINUXTYPE=${policyType}; ${samples} labelled`, {
    expected: `SELINUX=${mode} SELINUXTYPE=${policyType}, labelled files`,
  });
}

export const selinux = defineCheck<SelinuxRule, SelinuxFacts>({
  name: "selinux",
  summary:
    "SELINUX=enforcing and SELINUXTYPE=targeted in /etc/selinux/config, and files carry SELinux labels",
  lists: { samples: "path" },
  async gather(view, rule) {
    const labels = new Map<string, string | null | undefined>();
    for (const s of rule.samples ?? []) {
      const node = await view.tree.find(s.path);
      if (!node) {
        labels.set(s.path, undefined);
        continue;
      }
      const value = xattrValue(await node.fs.listXattrs(node.ino), LABEL_XATTR);
      labels.set(s.path, value === undefined ? null : value.toString("utf8").replace(/\0+$/, ""));
    }
    return { config: await readText(view.tree, SELINUX_CONFIG), labels };
  },
  evaluate: evaluateSelinux,
});
