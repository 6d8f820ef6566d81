/**
 * services: the units an image type needs start at boot: a `*.wants/` (or `*.requires/`) symlink under
 * /etc/systemd/system whose target exists, or a preset whose first matching line enables the unit
 * (systemd applies presets on first boot).
 */
import { CloudImagesError } from "../../errors.js";
import { defineCheck, verdictOf } from "../check.js";
import { matchesGlob } from "../glob.js";
import type { CheckRule, Finding, RuleMeta } from "../types.js";
import { listNames, readText } from "../view.js";

export const UNIT_DIR = "/etc/systemd/system";
/** Preset directories in systemd's order of precedence (a file name in an earlier one hides later ones). */
export const PRESET_DIRS = ["/etc/systemd/system-preset", "/usr/lib/systemd/system-preset"];

export interface UnitRequirement extends RuleMeta {
  readonly unit: string;
  /** Any of these units (e.g. a unit renamed between releases); `unit` then labels the group. */
  readonly anyOf?: readonly string[];
}

export interface ServicesRule extends CheckRule {
  readonly units?: readonly UnitRequirement[];
}

export interface PresetLine {
  readonly file: string;
  readonly action: string;
  readonly pattern: string;
}

export interface ServiceFacts {
  /** Unit name → the .wants/.requires directories holding a working symlink to it. */
  readonly wantedBy: ReadonlyMap<string, readonly string[]>;
  /** Symlinks in .wants/.requires directories whose target does not exist. */
  readonly dangling: readonly string[];
  /** Preset lines, in the order systemd consults them. */
  readonly presets: readonly PresetLine[];
}

/** systemd's preset files in order: by file name, /etc hiding /usr/lib files of the same name. */
export function presetLines(files: readonly { dir: string; name: string; text: string }[]): PresetLine[] {
  const chosen = new Map<string, { dir: string; name: string; text: string }>();
  for (const dir of PRESET_DIRS) {
    for (const f of files.filter((x) => x.dir === dir && x.name.endsWith(".preset"))) {
      if (!chosen.has(f.name)) chosen.set(f.name, f);
    }
  }
  const out: PresetLine[] = [];
  for (const name of [...chosen.keys()].sort()) {
    const f = chosen.get(name)!;
    for (const raw of f.text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
      const [action = "", pattern = ""] = line.split(/\s+/);
      out.push({ file: `${f.dir}/${f.name}`, action: action.toLowerCase(), pattern });
    }
  }
  return out;
}

/** How a unit is enabled, or null. */
export function enabledBy(unit: string, facts: ServiceFacts): string | null {
  const wanted = facts.wantedBy.get(unit);
  if (wanted && wanted.length > 0) return `${UNIT_DIR}/${wanted[0]}/${unit}`;
  const preset = facts.presets.find((p) => matchesGlob(unit, p.pattern));
  if (preset?.action === "enable") return `${preset.file} (enable ${preset.pattern})`;
  return null;
}

export const services = defineCheck<ServicesRule, ServiceFacts>({
  name: "services",
  summary:
    "the units the image type needs are enabled (.wants/ symlinks or presets): sshd, cloud-init, waagent, one-context",
  lists: { units: "unit" },
  async gather(view) {
    const wantedBy = new Map<string, string[]>();
    const dangling: string[] = [];
    for (const dir of (await listNames(view.tree, UNIT_DIR)) ?? []) {
      if (!dir.endsWith(".wants") && !dir.endsWith(".requires")) continue;
      for (const unit of (await listNames(view.tree, `${UNIT_DIR}/${dir}`)) ?? []) {
        const path = `${UNIT_DIR}/${dir}/${unit}`;
        let works = false;
        try {
          works = (await view.tree.find(path)) !== null;
        } catch (e) {
          if (!(e instanceof CloudImagesError)) throw e;
        }
        if (!works) dangling.push(path);
        else wantedBy.set(unit, [...(wantedBy.get(unit) ?? []), dir]);
      }
    }
    const files: { dir: string; name: string; text: string }[] = [];
    for (const dir of PRESET_DIRS) {
      for (const name of (await listNames(view.tree, dir)) ?? []) {
        const text = await readText(view.tree, `${dir}/${name}`);
        if (text !== null) files.push({ dir, name, text });
      }
    }
    return { wantedBy, dangling, presets: presetLines(files) };
  },
  evaluate(facts, rule) {
    const findings: Finding[] = [];
    const enabled: string[] = [];
    for (const r of rule.units ?? []) {
      const names = r.anyOf && r.anyOf.length > 0 ? r.anyOf : [r.unit];
      const how = names.map((n) => enabledBy(n, facts)).find((h) => h !== null);
      if (how) {
        enabled.push(r.unit);
        continue;
      }
      const broken = facts.dangling.filter((d) => names.some((n) => d.endsWith(`/${n}`)));
      const note = broken.length > 0 ? ` (dangling symlink ${broken.join(", ")})` : "";
      const what = names.length > 1 ? `${r.unit} (one of ${names.join(", ")})` : r.unit;
      findings.push({ subject: r.unit, message: `${what} is not enabled${note}: ${r.reason ?? "required"}` });
    }
    const expected = (rule.units ?? []).map((u) => u.unit).join(", ");
    return verdictOf(findings, `enabled: ${enabled.join(", ")}`, { expected });
  },
});
