/**
 * The rpm database inside an image: found at /var/lib/rpm (on AlmaLinux 10 a symlink to
 * ../../usr/lib/sysimage/rpm, followed inside the image, never on the host) or /usr/lib/sysimage/rpm,
 * and read with the rpmdb readers through the image's filesystem.
 */
import { CloudImagesError, PathNotFoundError, RpmFormatError } from "../errors.js";
import type { PathResolver } from "../fs/path.js";
import type { InstalledPackage } from "../rpm/package.js";
import {
  detectRpmdbFormat,
  RPMDB_FILES,
  type RpmdbDir,
  type RpmdbFormat,
  readRpmdb,
} from "../rpm/rpmdb/index.js";

/** Where rpm keeps its database, in the order rpm's own %_dbpath has moved through the releases. */
export const RPMDB_PATHS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] as const;

/** Largest database file we read (real AlmaLinux databases are tens of MiB). */
const MAX_DB_FILE = 256 * 1024 * 1024;

export interface ImageRpmdb {
  /** The canonical directory inside the image, after following symlinks. */
  readonly dbPath: string;
  readonly format: RpmdbFormat;
  readonly dir: RpmdbDir;
}

export interface ImagePackages {
  readonly format: RpmdbFormat;
  readonly dbPath: string;
  /** In database order (as `rpm -qa` lists them). */
  readonly packages: InstalledPackage[];
}

/** A reader's failure inside the image, as the rpmdb readers report it. */
function cannotRead(e: unknown, path: string): unknown {
  if (!(e instanceof CloudImagesError) || e instanceof RpmFormatError) return e;
  return new RpmFormatError(`cannot read ${path} in the image: ${e.message}`, { cause: e });
}

/** The files of a directory inside an image, as the rpmdb readers want them. */
export function imageRpmdbDir(paths: PathResolver, dirPath: string): RpmdbDir {
  return {
    list: async () => (await paths.list(dirPath)).map((e) => e.name),
    read: async (name) => {
      try {
        return await paths.readFile(`${dirPath}/${name}`, MAX_DB_FILE);
      } catch (e) {
        throw cannotRead(e, `${dirPath}/${name}`);
      }
    },
    open: async (name) => {
      const path = `${dirPath}/${name}`;
      try {
        const file = await paths.open(path, MAX_DB_FILE);
        return {
          size: file.size,
          readInto: (offset, length, target, at) =>
            file.readInto(offset, length, target, at).catch((e) => {
              throw cannotRead(e, path);
            }),
        };
      } catch (e) {
        throw cannotRead(e, path);
      }
    },
  };
}

/** The first of RPMDB_PATHS that is a directory holding a database; RpmFormatError when none is. */
export async function findImageRpmdb(paths: PathResolver): Promise<ImageRpmdb> {
  const seen: string[] = [];
  for (const candidate of RPMDB_PATHS) {
    let dbPath: string;
    let names: string[];
    try {
      const dir = await paths.resolve(candidate);
      if (dir.stat.type !== "dir") {
        seen.push(`${candidate} is not a directory`);
        continue;
      }
      dbPath = dir.path;
      names = (await paths.list(dbPath)).map((e) => e.name);
    } catch (e) {
      if (!(e instanceof PathNotFoundError)) throw e;
      seen.push(`${candidate} does not exist`);
      continue;
    }
    const format = detectRpmdbFormat(names);
    if (format === null) {
      seen.push(`${candidate} holds no ${Object.values(RPMDB_FILES).join(", ")}`);
      continue;
    }
    return { dbPath, format, dir: imageRpmdbDir(paths, dbPath) };
  }
  throw new RpmFormatError(`no rpm database in the image (${seen.join("; ")})`);
}

/** Every installed package of the image, in database order. */
export async function readImagePackages(root: { readonly paths: PathResolver }): Promise<ImagePackages> {
  const db = await findImageRpmdb(root.paths);
  const { format, packages } = await readRpmdb(db.dir);
  return { format, dbPath: db.dbPath, packages };
}
