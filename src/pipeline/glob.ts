/**
 * Expands an output mask such as `output-NAME/AlmaLinux-9-*.x86_64.qcow2`: `*` and `?` in any
 * component, no `**`, no brace expansion (the resolver's masks never use them).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

function componentRegex(pattern: string): RegExp {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Paths (relative to `dir`, sorted) matching the mask; hidden files match only a leading-dot pattern. */
export async function expandMask(dir: string, mask: string): Promise<string[]> {
  let current = [""];
  for (const component of mask.split("/").filter((c) => c.length > 0)) {
    const next: string[] = [];
    const re = componentRegex(component);
    for (const base of current) {
      let names: string[];
      try {
        names = await readdir(join(dir, base));
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith(".") && !component.startsWith(".")) continue;
        if (re.test(name)) next.push(base ? `${base}/${name}` : name);
      }
    }
    current = next;
  }
  return current.sort();
}
