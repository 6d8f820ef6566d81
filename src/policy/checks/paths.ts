/**
 * The checks that are lists of path rules (ssh-host-keys, user-files, leftovers, network-config): each
 * rule names a path pattern and what must hold for what it matches: `absent` (nothing may match),
 * `empty` (matching regular files must be empty) or `not-contain` (matching regular files must not have
 * a line matching `pattern`).
 */
import { defineCheck, verdictOf } from "../check.js";
import { expandGlob, matchesGlob } from "../glob.js";
import type { CheckName, CheckRule, Finding, RuleMeta } from "../types.js";
import { MAX_CONFIG_BYTES } from "../view.js";

export interface PathRule extends RuleMeta {
  /** An absolute path pattern (see glob.ts). */
  readonly path: string;
  readonly must: "absent" | "empty" | "not-contain";
  /** For not-contain: a regular expression tested against each line. */
  readonly pattern?: string;
  /** Base-name patterns of matches the rule ignores (e.g. `*.pub`). */
  readonly except?: readonly string[];
}

export interface PathRulesRule extends CheckRule {
  readonly paths?: readonly PathRule[];
}

export interface PathMatch {
  readonly path: string;
  readonly type: string;
  readonly size: number;
  /** For not-contain rules: the first matching line of a regular file. */
  readonly line?: string;
}

export interface PathFacts {
  /** The matches of each rule, same order as the rule's paths. */
  readonly matches: readonly (readonly PathMatch[])[];
}

const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);

export function evaluatePathRules(facts: PathFacts, rules: readonly PathRule[], pass: string) {
  const findings: Finding[] = [];
  rules.forEach((rule, i) => {
    const why = rule.reason ? `: ${rule.reason}` : "";
    for (const m of facts.matches[i] ?? []) {
      if (rule.must === "absent") {
        findings.push({ subject: m.path, message: `${m.path} exists (${m.type})${why}` });
      } else if (rule.must === "empty" && m.type === "file" && m.size > 0) {
        findings.push({ subject: m.path, message: `${m.path} is not empty (${m.size} bytes)${why}` });
      } else if (rule.must === "not-contain" && m.line !== undefined) {
        findings.push({ subject: m.path, message: `${m.path} has "${m.line}"${why}` });
      }
    }
  });
  return verdictOf(findings, pass);
}

function pathRulesCheck(name: CheckName, summary: string, pass: string) {
  return defineCheck<PathRulesRule, PathFacts>({
    name,
    summary,
    lists: { paths: "path" },
    async gather(view, rule) {
      const matches: PathMatch[][] = [];
      for (const r of rule.paths ?? []) {
        const found: PathMatch[] = [];
        const re = r.pattern !== undefined ? new RegExp(r.pattern) : undefined;
        for (const m of await expandGlob(view.tree, r.path)) {
          if ((r.except ?? []).some((g) => matchesGlob(baseName(m.path), g))) continue;
          const base = { path: m.path, type: m.node.stat.type, size: m.node.stat.size };
          if (r.must === "not-contain" && re && m.node.stat.type === "file") {
            const text = (await view.tree.readNode(m.node, MAX_CONFIG_BYTES)).toString("utf8");
            const line = text.split("\n").find((l) => re.test(l));
            found.push(line !== undefined ? { ...base, line: line.trim() } : base);
          } else found.push(base);
        }
        matches.push(found);
      }
      return { matches };
    },
    evaluate: (facts, rule) => evaluatePathRules(facts, rule.paths ?? [], pass),
  });
}

export const sshHostKeys = pathRulesCheck(
  "ssh-host-keys",
  "no /etc/ssh/ssh_host_*_key (nor .pub): every instance makes its own",
  "no SSH host keys in the image",
);

export const userFiles = pathRulesCheck(
  "user-files",
  "under /root and /home/*: no non-empty .bash_history, no .ssh/authorized_keys, no private keys",
  "no shell history, authorized keys or private keys under /root and /home",
);

export const leftovers = pathRulesCheck(
  "leftovers",
  "no kickstarts, installer or non-empty logs, rotated logs, temporary files, dnf caches or cloud-init state",
  "no build leftovers",
);

export const networkConfig = pathRulesCheck(
  "network-config",
  "no NetworkManager profiles, no ifcfg naming a HWADDR/MACADDR, no 70-persistent-net.rules",
  "no network configuration bound to the build machine",
);
