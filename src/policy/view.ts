/**
 * What the checks read from: the image's tree (every filesystem mounted where fstab says), its volumes,
 * the installed packages, and small read helpers that turn "not there" into null (never a throw).
 */
import type { Qcow2Info } from "../disk/qcow2.js";
import { PathNotFoundError } from "../errors.js";
import type { MountedTree, TreeNode } from "../fs/mounts.js";
import type { Observed } from "../inspect/checks.js";
import type { ImageTree } from "../inspect/image-tree.js";
import type { OpenedRoot } from "../inspect/root.js";
import type { InstalledPackage } from "../rpm/package.js";

export interface ImageView {
  readonly tree: MountedTree;
  readonly image: ImageTree;
  readonly opened: OpenedRoot;
  /** The installed packages, or why the rpm database could not be read. */
  readonly packages: Observed<readonly InstalledPackage[]>;
  readonly qcow2?: Qcow2Info;
}

/** Largest configuration file the checks read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The node at `path` as lstat sees it, or null when it does not exist. */
export function lstatPath(tree: MountedTree, path: string): Promise<TreeNode | null> {
  return tree.find(path, { followFinal: false });
}

/** A text file's content (following symlinks), or null when it does not exist or is not a file. */
export async function readText(
  tree: MountedTree,
  path: string,
  maxBytes = MAX_CONFIG_BYTES,
): Promise<string | null> {
  const node = await tree.find(path);
  if (node?.stat.type !== "file") return null;
  return (await tree.readNode(node, maxBytes)).toString("utf8");
}

/** Names in a directory (following symlinks), or null when it is missing or not a directory. */
export async function listNames(tree: MountedTree, path: string): Promise<string[] | null> {
  const dir = await tree.find(path);
  if (dir?.stat.type !== "dir") return null;
  try {
    return (await tree.list(path)).map((e) => e.name);
  } catch (e) {
    if (e instanceof PathNotFoundError) return null;
    throw e;
  }
}
