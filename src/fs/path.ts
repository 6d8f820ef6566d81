/**
 * Path lookup inside an image's filesystem. Symlinks are followed inside the image: relative targets
 * against the link's directory, absolute ones against the image root (never the host's), with the
 * kernel's limit of 40 links per lookup.
 */
import { CloudImagesError, ImageFormatError, PathNotFoundError } from "../errors.js";
import { unescapeTerminal } from "../text.js";
import { nameBytes } from "./names.js";
import type { DirEntry, Filesystem, InodeStat, Xattr } from "./types.js";
import { xattrValue } from "./xattr.js";

export const MAX_SYMLINKS = 40;
const MAX_PATH = 4096;

/** A directory entry with its inode's stat. */
export interface ListedEntry extends DirEntry {
  readonly stat: InodeStat;
}

/** A directory entry with its stat, or why its inode could not be read. */
export type CheckedEntry = DirEntry &
  (
    | { readonly stat: InodeStat; readonly error?: undefined }
    | { readonly stat?: undefined; readonly error: string }
  );

/** A file opened for reads into the caller's memory: exactly `length` bytes at `offset`, or an error. */
export interface OpenedFile {
  readonly size: number;
  readInto(offset: number, length: number, target: Buffer, at: number): Promise<void>;
}

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
  async list(path: string): Promise<ListedEntry[]> {
    const out: ListedEntry[] = [];
    for (const e of await this.sortedEntries(path)) out.push({ ...e, stat: await this.fs.stat(e.ino) });
    return out;
  }

  /**
   * Like list, but an entry whose inode cannot be read (corrupt) carries the reason in `error`
   * instead of a `stat`, so one bad child does not hide its siblings.
   */
  async listChecked(path: string): Promise<CheckedEntry[]> {
    const out: CheckedEntry[] = [];
    for (const e of await this.sortedEntries(path)) {
      try {
        out.push({ ...e, stat: await this.fs.stat(e.ino) });
      } catch (err) {
        if (!(err instanceof CloudImagesError)) throw err;
        out.push({ ...e, error: err.message });
      }
    }
    return out;
  }

  private async sortedEntries(path: string): Promise<DirEntry[]> {
    const dir = await this.resolve(path);
    if (dir.stat.type !== "dir") throw new PathNotFoundError(`not a directory: ${dir.path}`);
    const entries = await this.fs.readDir(dir.ino);
    return [...entries].sort((a, b) => Buffer.compare(nameBytes(a), nameBytes(b)));
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

  /**
   * A regular file for reads at any offset into the caller's memory (nothing of it is read yet),
   * refusing files larger than `maxBytes`.
   */
  async open(path: string, maxBytes = 256 * 1024 * 1024): Promise<OpenedFile> {
    const file = await this.resolve(path);
    if (file.stat.type !== "file") throw new PathNotFoundError(`not a regular file: ${file.path}`);
    if (file.stat.size > maxBytes) {
      throw new ImageFormatError(
        `${file.path} is ${file.stat.size} bytes, more than the ${maxBytes} allowed here`,
      );
    }
    const { fs } = this;
    const { ino, stat } = file;
    return {
      size: stat.size,
      readInto: async (offset, length, target, at) => {
        if (offset + length > stat.size) {
          throw new ImageFormatError(`${file.path}: read of ${length} bytes at ${offset} goes past its end`);
        }
        const n = fs.readInto
          ? await fs.readInto(ino, offset, length, target, at)
          : (await fs.read(ino, offset, length)).copy(target, at);
        if (n !== length) throw new ImageFormatError(`${file.path}: short read at ${offset}`);
      },
    };
  }

  /** Streams a regular file in chunks. */
  async *stream(ino: number, size: number, chunk = 1024 * 1024): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += chunk) {
      yield await this.fs.read(ino, offset, Math.min(chunk, size - offset));
    }
  }

  /**
   * The inode of `name` in a directory. A name is matched by its bytes: first as the escaped form
   * escapeTerminal prints (`\xNN` for a byte, `\\` for a backslash), then as typed, then (on
   * case-insensitive filesystems) without regard to case.
   */
  private async lookupName(dirIno: number, name: string): Promise<number | undefined> {
    let names = this.dirCache.get(dirIno);
    if (!names) {
      names = indexEntries(await this.fs.readDir(dirIno), this.fs.caseInsensitive === true);
      if (this.dirCache.size >= PathResolver.CACHE_DIRS) {
        this.dirCache.delete(this.dirCache.keys().next().value!);
      }
      this.dirCache.set(dirIno, names);
    }
    const typed = Buffer.from(name, "utf8").toString("latin1");
    const escaped = name.includes("\\") ? unescapeTerminal(name).toString("latin1") : typed;
    return (
      names.get(escaped) ??
      names.get(typed) ??
      (this.fs.caseInsensitive ? names.get(folded(name)) : undefined)
    );
  }
}

/** The key of a name in a case-insensitive lookup: lower-cased behind a NUL, which no name contains. */
function folded(name: string): string {
  return `\0${name.toLowerCase()}`;
}

/**
 * A directory's names → inodes, keyed by each name's bytes as a latin1 string (one character per
 * byte, so names that differ only in invalid UTF-8 stay apart), plus folded keys when `fold`.
 */
function indexEntries(entries: readonly DirEntry[], fold: boolean): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    m.set(nameBytes(e).toString("latin1"), e.ino);
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
