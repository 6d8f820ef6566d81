/**
 * Converts an rpm sqlite database into the rpm <= 4.15 Berkeley DB layout (AlmaLinux 8) with the real
 * db5.3_load (Debian's rpm can read but not write bdb):
 * `Packages` as a hash (key = header number as a 4-byte integer in the database's byte order, value =
 * header blob, plus rpm's key-0 next-instance counter) and every index table (Name, Basenames, ...) as a
 * btree (key = raw key, value = concatenated (hnum, idx) pairs). Rows are read with the real sqlite3 CLI.
 *
 *   sqliteToBdb("/tmp/root/var/lib/rpm/rpmdb.sqlite", "/tmp/bdbdir", { pageSize: 4096 });
 *   // rpm --dbpath /tmp/bdbdir --define '_db_backend bdb_ro' -qa
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export interface KeyValue {
  key: Buffer;
  value: Buffer;
}

export interface BdbOptions {
  /** Berkeley DB page size (512..65536); db_load's default when omitted. */
  pageSize?: number;
  /** Hash fill factor (items per bucket); small values make many buckets. */
  ffactor?: number;
  /** Byte order of the file and of rpm's integer keys: little (1234, default) or big (4321). */
  bigEndian?: boolean;
  /** Leave out rpm's key-0 counter record. */
  noKey0?: boolean;
}

/** db_dump "bytevalue" text for db5.3_load. */
export function bdbDumpText(
  type: "hash" | "btree",
  records: readonly KeyValue[],
  options: BdbOptions = {},
): string {
  const header = ["VERSION=3", "format=bytevalue", `type=${type}`];
  if (options.pageSize) header.push(`db_pagesize=${options.pageSize}`);
  if (options.bigEndian) header.push("db_lorder=4321");
  if (type === "hash" && options.ffactor) header.push(`h_ffactor=${options.ffactor}`);
  const lines = [...header, "HEADER=END"];
  for (const { key, value } of records) lines.push(` ${key.toString("hex")}`, ` ${value.toString("hex")}`);
  lines.push("DATA=END");
  return `${lines.join("\n")}\n`;
}

/** Runs db5.3_load to create `file` from records. */
export function dbLoad(
  file: string,
  type: "hash" | "btree",
  records: readonly KeyValue[],
  options: BdbOptions = {},
): void {
  const work = mkdtempSync(join(tmpdir(), "dbload-"));
  try {
    const dump = join(work, "dump");
    writeFileSync(dump, bdbDumpText(type, records, options));
    rmSync(file, { force: true });
    execFileSync("db5.3_load", ["-f", dump, file], { stdio: ["ignore", "ignore", "pipe"] });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a query with the real sqlite3 CLI on a private copy of the database; rows as tab-separated fields. */
export function sqliteRows(dbFile: string, sql: string): string[][] {
  const work = mkdtempSync(join(tmpdir(), "sqlite-"));
  try {
    const copy = join(work, basename(dbFile));
    copyFileSync(dbFile, copy);
    if (existsSync(`${dbFile}-wal`)) copyFileSync(`${dbFile}-wal`, `${copy}-wal`);
    const out = execFileSync("sqlite3", ["-separator", "\t", copy, sql], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    return out
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split("\t"));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The header blobs of an rpm sqlite database, by hnum (read with sqlite3). */
export function sqliteHeaderBlobs(dbFile: string): { hnum: number; blob: Buffer }[] {
  return sqliteRows(dbFile, "SELECT hnum, hex(blob) FROM Packages ORDER BY hnum").map(([h, b]) => ({
    hnum: Number(h),
    blob: Buffer.from(b!, "hex"),
  }));
}

function u32(n: number, bigEndian: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (bigEndian) b.writeUInt32BE(n);
  else b.writeUInt32LE(n);
  return b;
}

/** The `Packages` hash records for header blobs, with rpm's key-0 counter first unless disabled. */
export function packagesRecords(
  blobs: readonly { hnum: number; blob: Buffer }[],
  options: BdbOptions = {},
): KeyValue[] {
  const be = options.bigEndian ?? false;
  const records: KeyValue[] = [];
  if (!options.noKey0) {
    const max = blobs.reduce((m, b) => Math.max(m, b.hnum), 0);
    records.push({ key: u32(0, be), value: u32(max, be) });
  }
  for (const { hnum, blob } of blobs) records.push({ key: u32(hnum, be), value: blob });
  return records;
}

/**
 * Writes `outDir/Packages` (hash) and, unless `indexes` is false, the index btrees (Name, Basenames...)
 * from an rpm sqlite database. Returns the table names written.
 */
export function sqliteToBdb(
  sqliteFile: string,
  outDir: string,
  options: BdbOptions & { indexes?: boolean } = {},
): string[] {
  mkdirSync(outDir, { recursive: true });
  const be = options.bigEndian ?? false;
  dbLoad(join(outDir, "Packages"), "hash", packagesRecords(sqliteHeaderBlobs(sqliteFile), options), options);
  if (options.indexes === false) return ["Packages"];
  const tables = sqliteRows(sqliteFile, "SELECT name FROM sqlite_master WHERE type='table'")
    .map(([n]) => n!)
    .filter((n) => !["Packages", "sqlite_sequence", "sqlite_stat1"].includes(n));
  // One sqlite3 run for all index rows: table, key, hnum, idx.
  const union = tables.map((t) => `SELECT '${t}', hex(key), hnum, idx FROM '${t}'`).join(" UNION ALL ");
  const byTable = new Map<string, Map<string, Buffer[]>>(tables.map((t) => [t, new Map()]));
  const rows = tables.length > 0 ? sqliteRows(sqliteFile, `SELECT * FROM (${union}) ORDER BY 1, 3, 4`) : [];
  for (const [t, key, hnum, idx] of rows) {
    const byKey = byTable.get(t!)!;
    const list = byKey.get(key!) ?? [];
    list.push(Buffer.concat([u32(Number(hnum), be), u32(Number(idx), be)]));
    byKey.set(key!, list);
  }
  for (const [t, byKey] of byTable) {
    const records = [...byKey.entries()]
      .map(([k, v]) => ({ key: Buffer.from(k, "hex"), value: Buffer.concat(v) }))
      .sort((a, b) => Buffer.compare(a.key, b.key));
    dbLoad(join(outDir, t), "btree", records, { ...options, ffactor: undefined });
  }
  return ["Packages", ...tables];
}

/** Replaces rpmdb.sqlite in `dbDir` by Berkeley DB files (Packages, Name, Basenames, ...) as rpm 4.14 keeps them. */
export function convertToBdb(dbDir: string): void {
  sqliteToBdb(join(dbDir, "rpmdb.sqlite"), dbDir, { pageSize: 4096, ffactor: 8 });
  for (const f of ["rpmdb.sqlite", "rpmdb.sqlite-wal", "rpmdb.sqlite-shm"])
    rmSync(join(dbDir, f), { force: true });
}
