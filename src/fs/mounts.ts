/**
 * A directory tree made of several filesystems, as the kernel presents it once they are mounted: a root
 * filesystem plus filesystems mounted on paths inside it. Path lookup crosses mount points in both
 * directions (`..` from a mounted filesystem's root goes back to the parent filesystem) and follows
 * symlinks inside the tree: absolute targets against the tree's root, never the host's, with the kernel's
 * limit of 40 links per lookup.
 */
import { ImageFormatError, PathNotFoundError } from "../errors.js";
import { MAX_SYMLINKS } from "./path.js";
import type { Filesystem, InodeStat } from "./types.js";

const MAX_PATH = 4096;
/** Directory listings kept per tree (name → inode maps). */
const CACHE_DIRS = 256;

export interface TreeMount {
  /** Absolute, normalized path of the mount point, e.g. `/boot/efi`. */
  readonly path: string;
  /** The mounted filesystem; null when it cannot be read (the reason says why). */
  readonly fs: Filesystem | null;
  readonly reason?: string;
}

/** Where a path ends up: the filesystem holding it, its inode and its canonical path in the tree. */
export interface TreeNode {
  readonly fs: Filesystem;
  readonly ino: number;
  readonly stat: InodeStat;
  readonly path: string;
}

export interface TreeEntry {
  readonly name: string;
  readonly node: TreeNode;
}

interface Frame {
  readonly name: string;
  readonly fs: Filesystem;
  readonly ino: number;
}

export class MountedTree {
  private readonly mounts = new Map<string, TreeMount>();
  private readonly dirCache = new Map<string, Map<string, number>>();
  private readonly fsIds = new Map<Filesystem, number>();

  constructor(
    readonly root: Filesystem,
    mounts: readonly TreeMount[] = [],
  ) {
    this.fsIds.set(root, 0);
    for (const m of mounts) {
      const path = normalize(m.path);
      if (path === "/") throw new ImageFormatError("a filesystem cannot be mounted over the tree's root");
      this.mounts.set(path, { ...m, path });
      if (m.fs && !this.fsIds.has(m.fs)) this.fsIds.set(m.fs, this.fsIds.size);
    }
  }

  /** The mount points, sorted by path. */
  mountPoints(): TreeMount[] {
    return [...this.mounts.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  /** The mount whose filesystem holds `node` (the root filesystem: undefined). */
  mountOf(node: TreeNode): TreeMount | undefined {
    for (const m of this.mounts.values()) if (m.fs === node.fs) return m;
    return undefined;
  }

  /** Resolves `path`; `followFinal: false` returns a final symlink itself (like lstat). */
  async resolve(path: string, options: { followFinal?: boolean } = {}): Promise<TreeNode> {
    const followFinal = options.followFinal ?? true;
    if (!path.startsWith("/")) path = `/${path}`;
    if (path.length > MAX_PATH) throw new PathNotFoundError(`path too long (${path.length} bytes)`);
    const stack: Frame[] = [];
    let pending = split(path);
    let links = 0;
    let fs = this.root;
    let ino = fs.rootIno;
    let stat = await fs.stat(ino);
    const here = (extra?: string) => join([...stack.map((f) => f.name), ...(extra ? [extra] : [])]);
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === ".") continue;
      if (name === "..") {
        stack.pop();
        const top = stack.at(-1);
        fs = top?.fs ?? this.root;
        ino = top?.ino ?? this.root.rootIno;
        stat = await fs.stat(ino);
        continue;
      }
      if (stat.type !== "dir") throw new PathNotFoundError(`not a directory: ${here()} (looking up ${path})`);
      const child = await this.lookup(fs, ino, name);
      if (child === undefined) {
        throw new PathNotFoundError(`no such file or directory: ${here(name)} (in the image)`);
      }
      let childFs = fs;
      let childIno = child;
      let childStat = await fs.stat(child);
      const mount = childStat.type === "dir" ? this.mounts.get(here(name)) : undefined;
      if (mount) {
        if (!mount.fs) {
          throw new PathNotFoundError(`${mount.path} is a mount point that cannot be read (${mount.reason})`);
        }
        childFs = mount.fs;
        childIno = mount.fs.rootIno;
        childStat = await mount.fs.stat(childIno);
      }
      if (childStat.type === "symlink" && (pending.length > 0 || followFinal)) {
        if (++links > MAX_SYMLINKS) {
          throw new PathNotFoundError(
            `too many levels of symbolic links looking up ${path} (a symlink loop?)`,
          );
        }
        const target = await childFs.readLink(childIno);
        if (target.length === 0) throw new PathNotFoundError(`empty symlink target at ${here(name)}`);
        pending = [...split(target), ...pending];
        if (target.startsWith("/")) stack.length = 0;
        const top = stack.at(-1);
        fs = top?.fs ?? this.root;
        ino = top?.ino ?? this.root.rootIno;
        stat = await fs.stat(ino);
        continue;
      }
      stack.push({ name, fs: childFs, ino: childIno });
      fs = childFs;
      ino = childIno;
      stat = childStat;
    }
    return { fs, ino, stat, path: here() };
  }

  /** Like resolve, but null when the path does not exist (other errors still throw). */
  async find(path: string, options: { followFinal?: boolean } = {}): Promise<TreeNode | null> {
    try {
      return await this.resolve(path, options);
    } catch (e) {
      if (e instanceof PathNotFoundError) return null;
      throw e;
    }
  }

  /**
   * Entries of the directory at `path` (following symlinks), sorted by name bytes, each as lstat sees
   * it: a mount point shows the mounted filesystem's root; a symlink is not followed.
   */
  async list(path: string): Promise<TreeEntry[]> {
    const dir = await this.resolve(path);
    if (dir.stat.type !== "dir") throw new PathNotFoundError(`not a directory: ${dir.path}`);
    const names = [...(await this.listing(dir.fs, dir.ino)).entries()].sort((a, b) =>
      Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])),
    );
    const out: TreeEntry[] = [];
    for (const [name, ino] of names) {
      const childPath = join([...split(dir.path), name]);
      let fs = dir.fs;
      let childIno = ino;
      let stat = await fs.stat(ino);
      const mount = stat.type === "dir" ? this.mounts.get(childPath) : undefined;
      if (mount?.fs) {
        fs = mount.fs;
        childIno = mount.fs.rootIno;
        stat = await fs.stat(childIno);
      }
      out.push({ name, node: { fs, ino: childIno, stat, path: childPath } });
    }
    return out;
  }

  /** The whole content of a regular file, refusing files larger than `maxBytes`. */
  async readFile(path: string, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    const file = await this.resolve(path);
    return this.readNode(file, maxBytes);
  }

  async readNode(file: TreeNode, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    if (file.stat.type !== "file") throw new PathNotFoundError(`not a regular file: ${file.path}`);
    if (file.stat.size > maxBytes) {
      throw new ImageFormatError(
        `${file.path} is ${file.stat.size} bytes, more than the ${maxBytes} allowed here`,
      );
    }
    return file.fs.read(file.ino, 0, file.stat.size);
  }

  private async lookup(fs: Filesystem, dirIno: number, name: string): Promise<number | undefined> {
    return (await this.listing(fs, dirIno)).get(name);
  }

  private async listing(fs: Filesystem, dirIno: number): Promise<Map<string, number>> {
    const key = `${this.fsIds.get(fs) ?? -1}:${dirIno}`;
    let names = this.dirCache.get(key);
    if (!names) {
      names = new Map();
      for (const e of await fs.readDir(dirIno)) names.set(e.name, e.ino);
      if (this.dirCache.size >= CACHE_DIRS) this.dirCache.delete(this.dirCache.keys().next().value!);
      this.dirCache.set(key, names);
    }
    return names;
  }
}

/** `/a//b/./c/` → `/a/b/c` (no `..` handling: mount points are given normalized). */
export function normalize(path: string): string {
  return join(split(path).filter((c) => c !== "."));
}

function split(path: string): string[] {
  return path.split("/").filter((c) => c.length > 0);
}

function join(names: readonly string[]): string {
  return `/${names.join("/")}`;
}
