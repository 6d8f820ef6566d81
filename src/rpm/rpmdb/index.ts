/**
 * The installed-package database, whichever of rpm's three formats a directory holds: `rpmdb.sqlite`
 * (AlmaLinux 9/10, with its `-wal`), NDB `Packages.db` (SUSE) or Berkeley DB `Packages` (AlmaLinux 8).
 * The directory is an abstraction so the same reader serves host paths and directories inside images.
 */
import { type FileHandle, open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { RpmFormatError } from "../../errors.js";
import { timed, timedAsync } from "../../phases.js";
import { verifyHeaderDigest } from "../digest.js";
import { parseHeader, type RpmHeader } from "../header.js";
import { type InstalledPackage, packageFromHeader } from "../package.js";
import { forEachBdbPackage } from "./bdb.js";
import { readNdb } from "./ndb.js";
import { forEachSqlitePackage, forEachSqlitePackageIn, type RandomAccessFile } from "./sqlite.js";

export { forEachBdbPackage, forEachBdbRecord, readBdbHash } from "./bdb.js";
export { readNdb } from "./ndb.js";
export {
  forEachSqlitePackage,
  forEachSqlitePackageIn,
  type RandomAccessFile,
  readSqlitePackages,
  type SqliteRecord,
} from "./sqlite.js";
export { applyWal, readWal, type WalIndex, walChecksum } from "./wal.js";

/** A file of the directory opened for reads at any offset into the caller's memory. */
export interface RpmdbFile extends RandomAccessFile {
  close?(): Promise<void>;
}

/** A directory of files: names in it, and a file's bytes (whole, or opened to be read in pieces). */
export interface RpmdbDir {
  list(): Promise<string[]>;
  read(name: string): Promise<Buffer>;
  /** Optional: large databases (rpmdb.sqlite) are then read window by window, not whole. */
  open?(name: string): Promise<RpmdbFile>;
}

export type RpmdbFormat = "sqlite" | "bdb" | "ndb";

export interface RpmdbHeader {
  /** rpm's record number (sqlite hnum, bdb key, ndb package index): `%{DBINSTANCE}`. */
  readonly instance: number;
  readonly header: RpmHeader;
}

export interface Rpmdb {
  readonly format: RpmdbFormat;
  /** In database order: sqlite by hnum, bdb by hash page walk, ndb by blob position (rpm's order). */
  readonly packages: InstalledPackage[];
  /** The record number of each package, same order. */
  readonly instances: number[];
}

export const RPMDB_FILES = { sqlite: "rpmdb.sqlite", ndb: "Packages.db", bdb: "Packages" } as const;

/** A directory on the host. */
export function hostRpmdbDir(path: string): RpmdbDir {
  return {
    list: async () => {
      try {
        return await readdir(path);
      } catch (e) {
        throw new RpmFormatError(
          `cannot list rpm database directory ${path}: ${(e as NodeJS.ErrnoException).code}`,
          {
            cause: e,
          },
        );
      }
    },
    read: async (name) => {
      try {
        return await readFile(join(path, name));
      } catch (e) {
        throw new RpmFormatError(`cannot read ${join(path, name)}: ${(e as NodeJS.ErrnoException).code}`, {
          cause: e,
        });
      }
    },
    open: async (name) => {
      const file = join(path, name);
      const fail = (e: unknown) =>
        new RpmFormatError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
      let handle: FileHandle;
      let size: number;
      try {
        handle = await open(file, "r");
        size = (await handle.stat()).size;
      } catch (e) {
        throw fail(e);
      }
      return {
        size,
        readInto: async (offset, length, target, at) => {
          let done = 0;
          while (done < length) {
            const { bytesRead } = await handle
              .read(target, at + done, length - done, offset + done)
              .catch((e) => {
                throw fail(e);
              });
            if (bytesRead === 0)
              throw new RpmFormatError(`${file}: unexpected end of file at ${offset + done}`);
            done += bytesRead;
          }
        },
        close: () => handle.close(),
      };
    },
  };
}

/** Which format a directory holds, preferring sqlite, then ndb, then bdb; null when none. */
export function detectRpmdbFormat(names: readonly string[]): RpmdbFormat | null {
  for (const format of ["sqlite", "ndb", "bdb"] as const)
    if (names.includes(RPMDB_FILES[format])) return format;
  return null;
}

/** Runs `fn` for one record, naming the record in any error it throws. */
function inRecord<T>(file: string, instance: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RpmFormatError) {
      if (e.message.startsWith(`${file} record ${instance}:`)) throw e;
      throw new RpmFormatError(`${file} record ${instance}: ${e.message}`, { cause: e });
    }
    throw new RpmFormatError(`${file} record ${instance}: ${(e as Error).message}`, { cause: e });
  }
}

function parseRecord(file: string, instance: number, blob: Buffer): RpmHeader {
  const header = timed("header-parse", () =>
    parseHeader(blob, { magic: false, what: `${file} record ${instance}` }),
  );
  timed("header-digests", () => verifyHeaderDigest(header));
  return header;
}

/** Every header in the database, parsed and its digests checked (as rpm does), in database order. */
export async function readRpmdbHeaders(
  dir: RpmdbDir,
): Promise<{ format: RpmdbFormat; headers: RpmdbHeader[] }> {
  const { format, file, forEach } = await openRpmdb(dir);
  const headers: RpmdbHeader[] = [];
  // Headers are kept: each gets its own copy of its blob.
  await timedAsync("rpmdb-walk", () =>
    forEach((instance, blob) =>
      headers.push({
        instance,
        header: inRecord(file, instance, () => parseRecord(file, instance, Buffer.from(blob))),
      }),
    ),
  );
  return { format, headers };
}

/** The installed packages, in database order. */
export async function readRpmdb(dir: RpmdbDir): Promise<Rpmdb> {
  const { format, file, forEach } = await openRpmdb(dir);
  const packages: InstalledPackage[] = [];
  const instances: number[] = [];
  // Only the package records are kept: a header's blob may be reused once it is read.
  await timedAsync("rpmdb-walk", () =>
    forEach((instance, blob) => {
      const header = inRecord(file, instance, () => parseRecord(file, instance, blob));
      packages.push(
        inRecord(file, instance, () => timed("package-records", () => packageFromHeader(header))),
      );
      instances.push(instance);
    }),
  );
  return { format, packages, instances };
}

type RecordVisitor = (instance: number, blob: Buffer) => void;

/** The database's format and a walk over its records (each blob valid during its call only). */
async function openRpmdb(
  dir: RpmdbDir,
): Promise<{ format: RpmdbFormat; file: string; forEach: (visit: RecordVisitor) => Promise<void> }> {
  const names = await dir.list();
  const format = detectRpmdbFormat(names);
  if (format === null) {
    throw new RpmFormatError(`no rpm database found (expected ${Object.values(RPMDB_FILES).join(", ")})`);
  }
  const file = RPMDB_FILES[format];
  if (format === "sqlite") {
    const walName = `${file}-wal`;
    const wal = names.includes(walName) ? await timedAsync("rpmdb-read", () => dir.read(walName)) : null;
    if (dir.open) {
      const open = dir.open.bind(dir);
      const forEach = async (visit: RecordVisitor) => {
        const db = await open(file);
        try {
          await forEachSqlitePackageIn(timedFile(db), wal, visit, file);
        } finally {
          await db.close?.();
        }
      };
      return { format, file, forEach };
    }
    const data = await timedAsync("rpmdb-read", () => dir.read(file));
    return { format, file, forEach: async (visit) => forEachSqlitePackage(data, wal, visit, file) };
  }
  const data = await timedAsync("rpmdb-read", () => dir.read(file));
  if (format === "ndb") {
    return {
      format,
      file,
      forEach: async (visit) => {
        for (const r of readNdb(data, file)) visit(r.pkgIndex, r.blob);
      },
    };
  }
  return { format, file, forEach: async (visit) => forEachBdbPackage(data, visit, file) };
}

/** The file with its reads counted in the rpmdb-read phase. */
function timedFile(f: RandomAccessFile): RandomAccessFile {
  return {
    size: f.size,
    readInto: (offset, length, target, at) =>
      timedAsync("rpmdb-read", () => f.readInto(offset, length, target, at)),
  };
}
