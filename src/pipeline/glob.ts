/** Expands an output mask (see resolve/mask.ts) against the files of a directory. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { maskComponentMatcher } from "../resolve/mask.js";

/** Paths (relative to `dir`, sorted) matching the mask. */
export async function expandMask(dir: string, mask: string): Promise<string[]> {
  let current = [""];
  for (const component of mask.split("/").filter((c) => c.length > 0)) {
    const next: string[] = [];
    const matches = maskComponentMatcher(component);
    for (const base of current) {
      let names: string[];
      try {
        names = await readdir(join(dir, base));
      } catch {
        continue;
      }
      for (const name of names) {
        if (matches(name)) next.push(base ? `${base}/${name}` : name);
      }
    }
    current = next;
  }
  return current.sort();
}
