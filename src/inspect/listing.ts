/**
 * What `ls` shows for a path inside an image: a directory's entries (or the file itself), each with
 * its stat and link target, or why it could not be read, and its extended attributes on request.
 */
import { CloudImagesError } from "../errors.js";
import type { PathResolver } from "../fs/path.js";
import type { DirEntry, InodeStat, Xattr } from "../fs/types.js";

export interface ListingEntry extends DirEntry {
  /** Absent when the entry's inode could not be read; `error` says why. */
  readonly stat?: InodeStat;
  /** A symbolic link's target. */
  readonly target?: string;
  /** Extended attributes, when asked for. */
  readonly xattrs?: readonly Xattr[];
  /** Why the inode, its link target or its attributes could not be read. */
  readonly error?: string;
}

/**
 * Lists `path` (following symlinks): a directory's entries sorted by name bytes, or the one file it
 * names. An entry that cannot be read is kept with its error instead of failing the listing.
 */
export async function listPath(
  paths: PathResolver,
  path: string,
  options: { xattrs?: boolean } = {},
): Promise<ListingEntry[]> {
  const target = await paths.resolve(path);
  const entries =
    target.stat.type === "dir"
      ? await paths.listChecked(target.path)
      : [{ name: target.path, ino: target.ino, stat: target.stat }];
  const out: ListingEntry[] = [];
  for (const e of entries) {
    if (!e.stat) {
      out.push(e);
      continue;
    }
    try {
      const link = e.stat.type === "symlink" ? await paths.fs.readLink(e.ino) : undefined;
      const xattrs = options.xattrs ? await paths.fs.listXattrs(e.ino) : undefined;
      out.push({ ...e, ...(link !== undefined ? { target: link } : {}), ...(xattrs ? { xattrs } : {}) });
    } catch (err) {
      if (!(err instanceof CloudImagesError)) throw err;
      out.push({ ...e, error: err.message });
    }
  }
  return out;
}
