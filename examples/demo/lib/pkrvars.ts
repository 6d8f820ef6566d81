/** Writing a Packer variables file (`*.pkrvars.hcl`): one `name = value` line per variable. */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { UsageError } from "../../../src/errors.js";

export type PackerValue = string | number | boolean;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** An HCL quoted string: escapes, and `${`/`%{` doubled so Packer does not read them as templates. */
export function hclString(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `"${out.replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`)}"`;
}

/** The text of a variables file assigning `vars` in the given order, after a comment header. */
export function renderPkrVars(vars: Readonly<Record<string, PackerValue>>, header: string): string {
  const lines = header
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `# ${l}`);
  for (const [name, value] of Object.entries(vars)) {
    if (!NAME_RE.test(name)) {
      throw new UsageError(`Packer variable name "${name}" is invalid (valid: letters, digits, _ and -)`);
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new UsageError(`Packer variable ${name} is ${value} (valid: a finite number)`);
    }
    lines.push(`${name} = ${typeof value === "string" ? hclString(value) : String(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes the file atomically (Packer may be reading the directory in another process). */
export function writePkrVars(
  path: string,
  vars: Readonly<Record<string, PackerValue>>,
  header: string,
): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, renderPkrVars(vars, header));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
