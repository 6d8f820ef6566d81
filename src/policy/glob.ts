/**
 * Path patterns of policy rules, expanded inside the image: `*` and `?` match within one name (dot
 * names included, unlike the shell: a leftover `.bash_history` must not hide), `[...]` a character class,
 * `**` any number of directories (never through a symlink). Literal components follow symlinks as path
 * lookup does; what a pattern finally matches is reported as lstat sees it.
 */
import type { MountedTree, TreeNode } from "../fs/mounts.js";

export interface GlobMatch {
  readonly path: string;
  readonly node: TreeNode;
}

const GLOB_CHARS = /[*?[]/;

export function hasGlob(component: string): boolean {
  return GLOB_CHARS.test(component);
}

/** A regular expression matching one path component against a glob (`*`, `?`, `[...]`, `[!...]`). */
export function componentRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

export function matchesGlob(name: string, glob: string): boolean {
  return componentRegExp(glob).test(name);
}

/** A whole-path pattern: `*`, `?` and `[...]` within a component, `**` across components. */
export function pathRegExp(pattern: string): RegExp {
  const parts = pattern.split("/").map((p) => (p === "**" ? ".*" : componentRegExp(p).source.slice(1, -1)));
  return new RegExp(`^${parts.join("/")}$`, "s");
}

export function matchesPath(path: string, pattern: string): boolean {
  return pathRegExp(pattern).test(path);
}

/** Every path in the tree that `pattern` (absolute) matches, sorted, as lstat sees each. */
export async function expandGlob(tree: MountedTree, pattern: string): Promise<GlobMatch[]> {
  const parts = pattern.split("/").filter((p) => p !== "" && p !== ".");
  let current = [""];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of current) {
      if (part === "**") next.push(...(await descendants(tree, base, !last)));
      else if (!hasGlob(part)) next.push(`${base}/${part}`);
      else {
        const re = componentRegExp(part);
        for (const e of await listOrEmpty(tree, base || "/"))
          if (re.test(e.name)) next.push(`${base}/${e.name}`);
      }
    }
    current = [...new Set(next)];
  }
  const out: GlobMatch[] = [];
  for (const path of current.sort()) {
    if (path === "") continue;
    const node = await tree.find(path, { followFinal: false });
    if (node) out.push({ path, node });
  }
  return out;
}

async function listOrEmpty(tree: MountedTree, path: string) {
  const dir = await tree.find(path);
  if (dir?.stat.type !== "dir") return [];
  return tree.list(path);
}

/** `base` itself (when `withSelf`) and everything below it, without descending through symlinks. */
async function descendants(tree: MountedTree, base: string, withSelf: boolean): Promise<string[]> {
  const out = withSelf ? [base] : [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await listOrEmpty(tree, dir || "/")) {
      const path = `${dir}/${e.name}`;
      out.push(path);
      if (e.node.stat.type === "dir") await walk(path);
    }
  };
  await walk(base);
  return out;
}
