/**
 * sshd_config read the way OpenSSH's sshd reads it when it starts, for the global (no connection)
 * values: keywords are case-insensitive; the first value obtained for a keyword wins; `Include` reads
 * the files its arguments name (relative ones under /etc/ssh, glob(3) patterns expanded and sorted)
 * in place, up to 16 levels deep; `Match` starts a conditional block that does not set global values
 * (`Match all` ends it); an Include inside a Match block reads its files as conditional too, and a
 * Match inside an included file ends with that file.
 *
 * Pure: files and directory listings come from a ConfigSource. A source that has not loaded a path yet
 * returns undefined; the parse records it in `missing`, so the caller can load it and parse again.
 */
import { componentRegExp, hasGlob } from "./glob.js";

export const SSHD_CONFIG = "/etc/ssh/sshd_config";
const SSHDIR = "/etc/ssh";
const MAX_DEPTH = 16;

export interface ConfigSource {
  /** A file's text; null when it does not exist; undefined when not loaded yet. */
  file(path: string): string | null | undefined;
  /** A directory's entry names; null when it does not exist; undefined when not loaded yet. */
  dir(path: string): readonly string[] | null | undefined;
}

export interface SshdValue {
  /** The keyword as written. */
  readonly keyword: string;
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export interface SshdParse {
  /** First global value per keyword (lower case). */
  readonly values: ReadonlyMap<string, SshdValue>;
  /** Files read, in the order read. */
  readonly files: readonly string[];
  /** Paths the source had not loaded: files, and directories whose listing a glob needs. */
  readonly missing: { readonly files: readonly string[]; readonly dirs: readonly string[] };
  /** Problems sshd would refuse to start with. */
  readonly errors: readonly string[];
}

/**
 * Splits a line into words as sshd does: whitespace separates, the keyword may be followed by one
 * `=`, double quotes group, and a word starting with `#` ends the line.
 */
export function sshdWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const s = line.replace(/[ \t\r\n\f]+$/, "");
  const skipSpace = () => {
    while (i < s.length && /[ \t]/.test(s[i]!)) i++;
  };
  skipSpace();
  // the keyword ends at whitespace or `=`; one `=` (with spaces around it) may separate it from the value
  let kw = "";
  while (i < s.length && !/[ \t=]/.test(s[i]!)) kw += s[i++];
  if (kw === "" || kw.startsWith("#")) return [];
  words.push(kw);
  skipSpace();
  if (s[i] === "=") {
    i++;
    skipSpace();
  }
  while (i < s.length) {
    if (s[i] === "#") break;
    let w = "";
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw new Error("invalid quotes");
      w = s.slice(i + 1, end);
      i = end + 1;
    } else {
      while (i < s.length && !/[ \t]/.test(s[i]!)) w += s[i++];
    }
    words.push(w);
    skipSpace();
  }
  return words;
}

interface Missing {
  readonly files: Set<string>;
  readonly dirs: Set<string>;
}

/** glob(3) with default flags: sorted, `*` and `?` do not match a leading dot, `**` is `*`. */
function expandInclude(pattern: string, source: ConfigSource, missing: Missing): string[] {
  const parts = pattern.split("/").filter((p) => p !== "");
  let current = [""];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasGlob(part)) {
        next.push(`${base}/${part}`);
        continue;
      }
      const dir = base === "" ? "/" : base;
      const names = source.dir(dir);
      if (names === undefined) missing.dirs.add(dir);
      const re = componentRegExp(part);
      for (const n of names ?? []) {
        if (n.startsWith(".") && !part.startsWith(".")) continue;
        if (re.test(n)) next.push(`${base}/${n}`);
      }
    }
    current = next;
  }
  const out: string[] = [];
  for (const p of current) {
    const text = source.file(p);
    if (text === undefined) missing.files.add(p);
    if (text !== null) out.push(p);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Parses sshd_config and everything it includes; `keywords` (any case) are the values collected. */
export function parseSshdConfig(
  source: ConfigSource,
  keywords: readonly string[],
  main = SSHD_CONFIG,
): SshdParse {
  const wanted = new Set(keywords.map((k) => k.toLowerCase()));
  const values = new Map<string, SshdValue>();
  const files: string[] = [];
  const missing: Missing = { files: new Set(), dirs: new Set() };
  const errors: string[] = [];
  let active = true;

  const parseFile = (path: string, depth: number, neverMatch: boolean): void => {
    const text = source.file(path);
    if (text === undefined) missing.files.add(path);
    if (text === undefined || text === null) {
      if (depth === 0 && text === null) errors.push(`${path} does not exist`);
      return;
    }
    files.push(path);
    text.split("\n").forEach((raw, i) => {
      const line = i + 1;
      let words: string[];
      try {
        words = sshdWords(raw);
      } catch {
        errors.push(`${path} line ${line}: invalid quotes`);
        return;
      }
      if (words.length === 0) return;
      const keyword = words[0]!;
      const kw = keyword.toLowerCase();
      const args = words.slice(1);
      if (kw === "match") {
        const all = args.length === 1 && args[0]!.toLowerCase() === "all";
        active = neverMatch ? false : all;
        return;
      }
      if (kw === "include") {
        if (depth + 1 > MAX_DEPTH) {
          errors.push(`${path} line ${line}: too many recursive configuration includes`);
          return;
        }
        const outer = active;
        for (const arg of args) {
          const pattern = arg.startsWith("/") ? arg : `${SSHDIR}/${arg}`;
          for (const f of expandInclude(pattern, source, missing)) {
            parseFile(f, depth + 1, !outer);
            active = outer;
          }
        }
        return;
      }
      if (!wanted.has(kw) || !active || values.has(kw)) return;
      if (args.length === 0 || args[0] === "") {
        errors.push(`${path} line ${line}: no argument after keyword "${keyword}"`);
        return;
      }
      values.set(kw, { keyword, value: args[0]!, file: path, line });
    });
  };

  parseFile(main, 0, false);
  return { values, files, missing: { files: [...missing.files], dirs: [...missing.dirs] }, errors };
}
