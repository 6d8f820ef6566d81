/**
 * Path lookup inside an image's filesystem. Symlinks are followed inside the image: relative targets
 * against the link's directory, absolute ones against the image root (never the host's), with the
 * kernel's limit of 40 links per lookup.
 */
import { ImageFormatError, PathNotFoundError } from "../errors.js";
import type { DirEntry, Filesystem, InodeStat, Xattr } from "./types.js";
import { xattrValue } from "./xattr.js";

export const MAX_SYMLINKS = 40;
const MAX_PATH = 4096;

export interface ResolvedPath {
  readonly ino: number;
  readonly stat: InodeStat;
  /** The canonical path, after following symlinks and `..`. */
  readonly path: string;
}

/** A filesystem with a bounded cache of directory listings, so repeated lookups stay cheap. */
export class PathResolver {
  private readonly dirCache = new Map<number, Map<string, number>>();
  private static readonly CACHE_DIRS = 64;

  constructor(readonly fs: Filesystem) {}

  /** Resolves `path`; `followFinal: false` returns a final symlink itself (like lstat). */
  async resolve(path: string, options: { followFinal?: boolean } = {}): Promise<ResolvedPath> {
    const followFinal = options.followFinal ?? true;
    if (!path.startsWith("/")) path = `/${path}`;
    if (path.length > MAX_PATH) throw new PathNotFoundError(`path too long (${path.length} bytes)`);
    // Stack of (name, ino) from the root; `..` pops, so `..` above the root stays at the root.
    const stack: { name: string; ino: number }[] = [];
    let pending = splitPath(path);
    let links = 0;
    let ino = this.fs.rootIno;
    let stat = await this.fs.stat(ino);
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === ".") continue;
      if (name === "..") {
        stack.pop();
        ino = stack.at(-1)?.ino ?? this.fs.rootIno;
        stat = await this.fs.stat(ino);
        continue;
      }
      if (stat.type !== "dir") {
        throw new PathNotFoundError(
          `not a directory: ${joinPath(stack.map((s) => s.name))} (looking up ${path})`,
        );
      }
      const child = await this.lookupName(ino, name);
      if (child === undefined) {
        throw new PathNotFoundError(
          `no such file or directory: ${joinPath([...stack.map((s) => s.name), name])} (in the image)`,
        );
      }
      const childStat = await this.fs.stat(child);
      if (childStat.type === "symlink" && (pending.length > 0 || followFinal)) {
        if (++links > MAX_SYMLINKS) {
          throw new PathNotFoundError(
            `too many levels of symbolic links looking up ${path} (a symlink loop?)`,
          );
        }
        const target = await this.fs.readLink(child);
        if (target.length === 0)
          throw new PathNotFoundError(
            `empty symlink target at ${joinPath([...stack.map((s) => s.name), name])}`,
          );
        pending = [...splitPath(target), ...pending];
        if (target.startsWith("/")) stack.length = 0;
        ino = stack.at(-1)?.ino ?? this.fs.rootIno;
        stat = await this.fs.stat(ino);
        continue;
      }
      stack.push({ name, ino: child });
      ino = child;
      stat = childStat;
    }
    return { ino, stat, path: joinPath(stack.map((s) => s.name)) };
  }

  /** Entries of the directory at `path` (following symlinks), sorted by name bytes. */
  async list(path: string): Promise<{ name: string; ino: number; stat: InodeStat }[]> {
    const dir = await this.resolve(path);
    if (dir.stat.type !== "dir") throw new PathNotFoundError(`not a directory: ${dir.path}`);
    const entries = await this.fs.readDir(dir.ino);
    const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    const out = [];
    for (const e of sorted) out.push({ name: e.name, ino: e.ino, stat: await this.fs.stat(e.ino) });
    return out;
  }

  /** The whole content of a regular file, refusing files larger than `maxBytes`. */
  async readFile(path: string, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
    const file = await this.resolve(path);
    if (file.stat.type !== "file") throw new PathNotFoundError(`not a regular file: ${file.path}`);
    if (file.stat.size > maxBytes) {
      throw new ImageFormatError(
        `${file.path} is ${file.stat.size} bytes, more than the ${maxBytes} allowed here`,
      );
    }
    return this.fs.read(file.ino, 0, file.stat.size);
  }

  /** Extended attributes of the file at `path`; `followFinal: false` reads a final symlink's own. */
  async listXattrs(path: string, options: { followFinal?: boolean } = {}): Promise<readonly Xattr[]> {
    return this.fs.listXattrs((await this.resolve(path, options)).ino);
  }

  /** One extended attribute (e.g. "security.selinux") of the file at `path`, or undefined. */
  async getXattr(
    path: string,
    name: string,
    options: { followFinal?: boolean } = {},
  ): Promise<Buffer | undefined> {
    return xattrValue(await this.listXattrs(path, options), name);
  }

  /** Streams a regular file in chunks. */
  async *stream(ino: number, size: number, chunk = 1024 * 1024): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += chunk) {
      yield await this.fs.read(ino, offset, Math.min(chunk, size - offset));
    }
  }

  private async lookupName(dirIno: number, name: string): Promise<number | undefined> {
    let names = this.dirCache.get(dirIno);
    if (!names) {
      names = indexEntries(await this.fs.readDir(dirIno), this.fs.caseInsensitive === true);
      if (this.dirCache.size >= PathResolver.CACHE_DIRS) {
        this.dirCache.delete(this.dirCache.keys().next().value!);
      }
      this.dirCache.set(dirIno, names);
    }
    return names.get(name) ?? (this.fs.caseInsensitive ? names.get(folded(name)) : undefined);
  }
}

/** The key of a name in a case-insensitive lookup (NUL cannot occur in a name, so keys never collide). */
function folded(name: string): string {
  return `\0${name.toLowerCase()}`;
}

function indexEntries(entries: readonly DirEntry[], fold: boolean): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    m.set(e.name, e.ino);
    if (fold && !m.has(folded(e.name))) m.set(folded(e.name), e.ino);
  }
  return m;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((c) => c.length > 0);
}

function joinPath(names: readonly string[]): string {
  return `/${names.join("/")}`;
}
