/** sshd: the effective global sshd settings (PermitRootLogin) have no forbidden value. */
import type { MountedTree } from "../../fs/mounts.js";
import { defineCheck, verdictOf } from "../check.js";
import { type ConfigSource, parseSshdConfig, SSHD_CONFIG, type SshdParse } from "../sshd-config.js";
import type { CheckRule, Finding, RuleMeta } from "../types.js";
import { listNames, readText } from "../view.js";

export interface SshdSettingRule extends RuleMeta {
  readonly keyword: string;
  /** Values (case-insensitive) the effective setting must not have. */
  readonly forbidden: readonly string[];
  /** sshd's built-in default, when no file sets it. */
  readonly default?: string;
}

export interface SshdRule extends CheckRule {
  readonly settings?: readonly SshdSettingRule[];
}

/** Loads what the parse asks for until it asks for nothing new (each round reads one include level). */
export async function readSshdConfig(tree: MountedTree, keywords: readonly string[]): Promise<SshdParse> {
  const files = new Map<string, string | null>();
  const dirs = new Map<string, readonly string[] | null>();
  const source: ConfigSource = { file: (p) => files.get(p), dir: (p) => dirs.get(p) };
  for (;;) {
    const parse = parseSshdConfig(source, keywords);
    const { files: wantFiles, dirs: wantDirs } = parse.missing;
    if (wantFiles.length === 0 && wantDirs.length === 0) return parse;
    for (const p of wantFiles) files.set(p, await readText(tree, p));
    for (const p of wantDirs) dirs.set(p, await listNames(tree, p));
  }
}

export const sshd = defineCheck<SshdRule, SshdParse>({
  name: "sshd",
  summary:
    "the effective PermitRootLogin (read as sshd does: first value wins, Include in place, Match not global) is not yes",
  lists: { settings: "keyword" },
  gather: (view, rule) =>
    readSshdConfig(
      view.tree,
      (rule.settings ?? []).map((s) => s.keyword),
    ),
  evaluate(parse, rule) {
    const findings: Finding[] = parse.errors.map((e) => ({ subject: SSHD_CONFIG, message: e }));
    const effective: string[] = [];
    for (const s of rule.settings ?? []) {
      const v = parse.values.get(s.keyword.toLowerCase());
      const value = v?.value ?? s.default ?? "(unset)";
      const where = v ? `${v.file} line ${v.line}` : "sshd's default";
      effective.push(`${s.keyword} ${value}`);
      if (s.forbidden.some((f) => f.toLowerCase() === value.toLowerCase())) {
        findings.push({
          subject: v?.file ?? SSHD_CONFIG,
          message: `${s.keyword} is ${value} (${where}): ${s.reason ?? "forbidden"}`,
        });
      }
    }
    return verdictOf(findings, `effective ${effective.join(", ")} (read ${parse.files.join(", ")})`, {
      found: effective.join(", "),
    });
  },
});
