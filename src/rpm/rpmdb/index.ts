/**
 * The installed-package database, whichever of rpm's three formats a directory holds: `rpmdb.sqlite`
 * (AlmaLinux 9/10, with its `-wal`), NDB `Packages.db` (SUSE) or Berkeley DB `Packages` (AlmaLinux 8).
 * The directory is an abstraction so the same reader serves host paths and directories inside images.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { RpmFormatError } from "../../errors.js";
import { verifyHeaderDigest } from "../digest.js";
import { parseHeader, type RpmHeader } from "../header.js";
import { type InstalledPackage, packageFromHeader } from "../package.js";
import { bdbIsLittleEndian, readBdbHash } from "./bdb.js";
import { readNdb } from "./ndb.js";
import { readSqlitePackages } from "./sqlite.js";
import { applyWal } from "./wal.js";

export { readBdbHash } from "./bdb.js";
export { readNdb } from "./ndb.js";
export { readSqlitePackages } from "./sqlite.js";
export { applyWal, walChecksum } from "./wal.js";

/** A directory of files: names in it, and a file's bytes. */
export interface RpmdbDir {
  list(): Promise<string[]>;
  read(name: string): Promise<Buffer>;
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
  };
}

/** Which format a directory holds, preferring sqlite, then ndb, then bdb; null when none. */
export function detectRpmdbFormat(names: readonly string[]): RpmdbFormat | null {
  for (const format of ["sqlite", "ndb", "bdb"] as const)
    if (names.includes(RPMDB_FILES[format])) return format;
  return null;
}

/** Every header in the database, parsed and its digests checked (as rpm does), in database order. */
export async function readRpmdbHeaders(
  dir: RpmdbDir,
): Promise<{ format: RpmdbFormat; headers: RpmdbHeader[] }> {
  const names = await dir.list();
  const format = detectRpmdbFormat(names);
  if (format === null) {
    throw new RpmFormatError(`no rpm database found (expected ${Object.values(RPMDB_FILES).join(", ")})`);
  }
  const file = RPMDB_FILES[format];
  const records = await readRecords(dir, names, format);
  const headers = records.map(({ instance, blob }) => {
    try {
      const header = parseHeader(blob, { magic: false, what: `${file} record ${instance}` });
      verifyHeaderDigest(header);
      return { instance, header };
    } catch (e) {
      if (e instanceof RpmFormatError) throw e;
      throw new RpmFormatError(`${file} record ${instance}: ${(e as Error).message}`, { cause: e });
    }
  });
  return { format, headers };
}

/** The installed packages, in database order. */
export async function readRpmdb(dir: RpmdbDir): Promise<Rpmdb> {
  const { format, headers } = await readRpmdbHeaders(dir);
  const packages = headers.map(({ instance, header }) => {
    try {
      return packageFromHeader(header);
    } catch (e) {
      if (!(e instanceof RpmFormatError)) throw e;
      throw new RpmFormatError(`${RPMDB_FILES[format]} record ${instance}: ${e.message}`, { cause: e });
    }
  });
  return { format, packages, instances: headers.map((h) => h.instance) };
}

async function readRecords(
  dir: RpmdbDir,
  names: readonly string[],
  format: RpmdbFormat,
): Promise<{ instance: number; blob: Buffer }[]> {
  const file = RPMDB_FILES[format];
  const data = await dir.read(file);
  switch (format) {
    case "sqlite": {
      const walName = `${file}-wal`;
      const wal = names.includes(walName) ? await dir.read(walName) : null;
      const db = wal && wal.length > 0 ? applyWal(data, wal).database : data;
      return (await readSqlitePackages(db, file)).map((r) => ({ instance: r.hnum, blob: r.blob }));
    }
    case "ndb":
      return readNdb(data, file).map((r) => ({ instance: r.pkgIndex, blob: r.blob }));
    case "bdb": {
      const le = bdbIsLittleEndian(data);
      const out: { instance: number; blob: Buffer }[] = [];
      for (const { key, value } of readBdbHash(data, file)) {
        if (key.length !== 4) throw new RpmFormatError(`${file}: key of ${key.length} bytes (expected 4)`);
        const instance = le ? key.readUInt32LE(0) : key.readUInt32BE(0);
        if (instance === 0) continue; // rpm's next-instance counter, not a header
        out.push({ instance, blob: value });
      }
      return out;
    }
  }
}
