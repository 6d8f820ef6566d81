/**
 * The boot loader files a BLS (Boot Loader Specification) system boots from, as GRUB 2's blscfg reads
 * them: entries in /boot/loader/entries/*.conf (`key value` lines), the environment block
 * /boot/grub2/grubenv (`key=value` lines, padded with `#`), and `$name` variables in `options` that
 * GRUB expands from the environment block (AlmaLinux 8 keeps the kernel arguments in `$kernelopts`).
 */
import { rpmvercmp } from "../inspect/rpmvercmp.js";
import { expandVars } from "./vars.js";

export const BLS_DIR = "/boot/loader/entries";
export const GRUBENV = "/boot/grub2/grubenv";

export interface BlsEntry {
  /** The entry's id: its file name without `.conf` (what `saved_entry` names). */
  readonly id: string;
  readonly title?: string;
  readonly version?: string;
  readonly linux?: string;
  readonly initrd: readonly string[];
  readonly options: string;
}

export function parseBlsEntry(id: string, text: string): BlsEntry {
  const fields = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    fields.set(m[1]!, [...(fields.get(m[1]!) ?? []), m[2]!.trim()]);
  }
  const one = (k: string) => fields.get(k)?.[0];
  return {
    id,
    ...(one("title") !== undefined ? { title: one("title")! } : {}),
    ...(one("version") !== undefined ? { version: one("version")! } : {}),
    ...(one("linux") !== undefined ? { linux: one("linux")! } : {}),
    initrd: (fields.get("initrd") ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean),
    options: (fields.get("options") ?? []).join(" "),
  };
}

/** The variables of a GRUB environment block. */
export function parseGrubenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

/** Kernel command-line words (double quotes group, as the kernel's parser does). */
export function kernelArgs(cmdline: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of cmdline.matchAll(re)) out.push(m[0].replace(/"/g, ""));
  return out;
}

/** The value of the last `name=` argument (the kernel takes the last one), or undefined. */
export function argValue(args: readonly string[], name: string): string | undefined {
  const found = args.filter((a) => a.startsWith(`${name}=`));
  return found.at(-1)?.slice(name.length + 1);
}

/** An entry's kernel arguments, `$variables` expanded from the environment block as GRUB does. */
export function entryArgs(entry: BlsEntry, env: ReadonlyMap<string, string>): string[] {
  return kernelArgs(expandVars(entry.options, env, "empty"));
}

/** The entry GRUB boots by default: `saved_entry` when it names one, else the newest version. */
export function defaultEntry(
  entries: readonly BlsEntry[],
  env: ReadonlyMap<string, string>,
): BlsEntry | undefined {
  const saved = env.get("saved_entry");
  const named = saved !== undefined ? entries.find((e) => e.id === saved) : undefined;
  if (named) return named;
  return [...entries].sort((a, b) => rpmvercmp(b.version ?? b.id, a.version ?? a.id))[0];
}
