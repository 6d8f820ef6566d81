/**
 * repos: every enabled repository in /etc/yum.repos.d/*.repo checks package signatures (gpgcheck=1, or
 * inherited from /etc/dnf/dnf.conf) and each `gpgkey=file://` it names exists in the image.
 */
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Finding } from "../types.js";
import { expandVars } from "../vars.js";
import { listNames, readText } from "../view.js";

export const REPO_DIR = "/etc/yum.repos.d";
export const DNF_CONF = "/etc/dnf/dnf.conf";
const DNF_VARS = "/etc/dnf/vars";

export type IniSections = Map<string, Map<string, string>>;

/** dnf's ini files: `[section]`, `key=value`, `#`/`;` comments, indented lines continue a value. */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split("\n")) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    const section = /^\s*\[([^\]]+)\]/.exec(raw);
    if (section) {
      current = new Map();
      sections.set(section[1]!.trim(), current);
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(raw) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)} ${raw.trim()}`);
      continue;
    }
    const kv = /^\s*([^=]+?)\s*=\s*(.*)$/.exec(raw);
    if (kv && current) {
      lastKey = kv[1]!.toLowerCase();
      current.set(lastKey, kv[2]!.trim());
    }
  }
  return sections;
}

/** dnf's booleans; undefined for an unset or unrecognised value. */
export function iniBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (["1", "yes", "true", "on"].includes(v)) return true;
  if (["0", "no", "false", "off"].includes(v)) return false;
  return undefined;
}

export interface RepoFacts {
  readonly files: readonly { readonly path: string; readonly text: string }[];
  readonly dnfConf: string | null;
  readonly vars: ReadonlyMap<string, string>;
  /** Every local key path any repository names → whether it is a file in the image. */
  readonly keys: ReadonlyMap<string, boolean>;
}

interface Repo {
  readonly file: string;
  readonly id: string;
  readonly enabled: boolean;
  readonly gpgcheck: boolean | undefined;
  readonly keyPaths: readonly string[];
  readonly remoteKeys: readonly string[];
}

function repos(facts: Pick<RepoFacts, "files" | "vars">): Repo[] {
  const out: Repo[] = [];
  for (const f of facts.files) {
    for (const [id, kv] of parseIni(f.text)) {
      const urls = expandVars(kv.get("gpgkey") ?? "", facts.vars, "keep")
        .split(/[\s,]+/)
        .filter(Boolean);
      out.push({
        file: f.path,
        id,
        enabled: iniBool(kv.get("enabled")) ?? true,
        gpgcheck: iniBool(kv.get("gpgcheck")),
        keyPaths: urls.filter((u) => u.startsWith("file://")).map((u) => u.slice("file://".length)),
        remoteKeys: urls.filter((u) => !u.startsWith("file://")),
      });
    }
  }
  return out;
}

export const reposCheck = defineCheck<CheckRule, RepoFacts>({
  name: "repos",
  summary: "every enabled repository has gpgcheck=1 and each gpgkey=file:// it names exists in the image",
  async gather(view, _rule, leg) {
    const files: { path: string; text: string }[] = [];
    for (const name of (await listNames(view.tree, REPO_DIR)) ?? []) {
      if (!name.endsWith(".repo")) continue;
      const text = await readText(view.tree, `${REPO_DIR}/${name}`);
      if (text !== null) files.push({ path: `${REPO_DIR}/${name}`, text });
    }
    const vars = new Map<string, string>([
      ["basearch", leg.arch],
      ["arch", leg.arch],
    ]);
    if (leg.major !== undefined) vars.set("releasever", leg.major);
    for (const name of (await listNames(view.tree, DNF_VARS)) ?? []) {
      const text = await readText(view.tree, `${DNF_VARS}/${name}`);
      if (text !== null) vars.set(name, text.trim());
    }
    const keys = new Map<string, boolean>();
    for (const r of repos({ files, vars })) {
      for (const k of r.keyPaths) {
        if (!keys.has(k)) keys.set(k, (await view.tree.find(k))?.stat.type === "file");
      }
    }
    return { files, dnfConf: await readText(view.tree, DNF_CONF), vars, keys };
  },
  evaluate(facts) {
    const mainCheck = iniBool(
      facts.dnfConf ? parseIni(facts.dnfConf).get("main")?.get("gpgcheck") : undefined,
    );
    const findings: Finding[] = [];
    const enabled = repos(facts).filter((r) => r.enabled);
    for (const r of enabled) {
      const gpgcheck = r.gpgcheck ?? mainCheck ?? false;
      if (!gpgcheck) {
        const how = r.gpgcheck === false ? "gpgcheck=0" : "no gpgcheck (dnf's default is off)";
        findings.push({
          subject: r.file,
          message: `[${r.id}] in ${r.file} has ${how}: packages are not verified`,
        });
      }
      for (const k of r.keyPaths) {
        if (!facts.keys.get(k)) {
          findings.push({
            subject: r.file,
            message: `[${r.id}] in ${r.file} names the key ${k}, which is not in the image`,
          });
        }
      }
    }
    return verdictOf(findings, `${enabled.length} enabled repositories, all with gpgcheck=1 and their keys`, {
      expected: "gpgcheck=1, local keys present",
    });
  },
});
