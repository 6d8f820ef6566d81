/**
 * Works out string attributes of Packer templates as hcl2json renders them (`${…}` around each
 * expression) far enough to name the files a build writes: literals, `var.X` at its value (default
 * or *.auto.pkrvars.hcl), `local.X`, and `formatdate("…", timestamp())` at a sample time. Any other
 * expression stays open: the result says which, and shows it as `*` in the glob form.
 */

export interface HclValues {
  readonly variables: ReadonlyMap<string, unknown>;
  readonly locals: ReadonlyMap<string, unknown>;
}

export interface WorkedOut {
  /** The value, with open expressions kept as written (`${…}`), for people. */
  readonly text: string;
  /** The value as a glob: open expressions become `*`. */
  readonly glob: string;
  /** The expressions left open. */
  readonly open: readonly string[];
}

/** The sample time `timestamp()` stands for. */
const SAMPLE_TIME = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const MAX_DEPTH = 16;

/** Packer's formatdate for the tokens image names use (YYYY YY MM DD hh mm ss). */
export function formatDate(format: string, t: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const tokens: Record<string, string> = {
    YYYY: String(t.getUTCFullYear()),
    YY: two(t.getUTCFullYear() % 100),
    MM: two(t.getUTCMonth() + 1),
    DD: two(t.getUTCDate()),
    hh: two(t.getUTCHours()),
    mm: two(t.getUTCMinutes()),
    ss: two(t.getUTCSeconds()),
  };
  return format.replace(/YYYY|YY|MM|DD|hh|mm|ss/g, (token) => tokens[token]!);
}

export function workOut(value: unknown, values: HclValues): WorkedOut {
  const open: string[] = [];
  let text = "";
  let glob = "";
  const walk = (v: unknown, depth: number, written: string): void => {
    if (typeof v === "number" || typeof v === "boolean") {
      text += String(v);
      glob += String(v);
      return;
    }
    if (typeof v !== "string" || depth > MAX_DEPTH) {
      open.push(written);
      text += written;
      glob += "*";
      return;
    }
    let last = 0;
    for (const m of v.matchAll(/\$\{([^}]*)\}/g)) {
      text += v.slice(last, m.index);
      glob += v.slice(last, m.index);
      last = m.index + m[0].length;
      const expr = m[1]!.trim();
      const ref = /^(var|local)\.([A-Za-z_][\w-]*)$/.exec(expr);
      const table = ref?.[1] === "var" ? values.variables : values.locals;
      const date = /^formatdate\(\s*"([^"]*)"\s*,\s*timestamp\(\)\s*\)$/.exec(expr);
      if (ref && table.has(ref[2]!)) {
        walk(table.get(ref[2]!), depth + 1, m[0]);
      } else if (date) {
        const d = formatDate(date[1]!, SAMPLE_TIME);
        text += d;
        glob += d;
      } else {
        open.push(m[0]);
        text += m[0];
        glob += "*";
      }
    }
    text += v.slice(last);
    glob += v.slice(last);
  };
  walk(value, 0, JSON.stringify(value));
  return { text, glob, open };
}
