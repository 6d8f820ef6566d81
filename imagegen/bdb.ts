/**
 * Turns rpm's sqlite database into the Berkeley DB layout of rpm <= 4.15 (AlmaLinux 8): `Packages` as a
 * hash (key: instance number, 4 bytes little-endian; value: header blob; plus rpm's key-0 counter record)
 * and every index (Name, Basenames, ...) as a btree (key: the indexed value; value: (instance, index)
 * pairs of u32 little-endian). Debian's rpm can read but not write bdb, so `db5.3_load` writes the files
 * from dumps generated here.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { RpmFormatError } from "../src/errors.js";
import { run } from "./exec.js";

type Row = Record<string, unknown>;

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function keyBytes(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (typeof v === "number") return u32le(v);
  throw new RpmFormatError(
    `imagegen: unexpected rpmdb index key type ${typeof v} (valid: text, blob, integer)`,
  );
}

/** db_load's "bytevalue" text format: hex key and value lines, one leading space each. */
export function dumpText(type: "hash" | "btree", items: [Buffer, Buffer][], header: string[] = []): string {
  const lines = [
    "VERSION=3",
    "format=bytevalue",
    `type=${type}`,
    "db_pagesize=4096",
    ...header,
    "HEADER=END",
  ];
  for (const [k, v] of items) lines.push(` ${k.toString("hex")}`, ` ${v.toString("hex")}`);
  lines.push("DATA=END", "");
  return lines.join("\n");
}

function all(db: initSqlJs.Database, sql: string): Row[] {
  const stmt = db.prepare(sql);
  const rows: Row[] = [];
  while (stmt.step()) rows.push(stmt.getAsObject() as Row);
  stmt.free();
  return rows;
}

/** Writes `<name>.dump` files for Packages and every index table; returns the database names. */
export async function sqliteToDumps(sqliteFile: string, outDir: string): Promise<string[]> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(sqliteFile));
  try {
    const packages = all(db, "SELECT hnum, blob FROM Packages ORDER BY hnum");
    const maxHnum = packages.reduce((m, r) => Math.max(m, Number(r.hnum)), 0);
    const pkgItems: [Buffer, Buffer][] = [[u32le(0), u32le(maxHnum)]];
    for (const r of packages) pkgItems.push([u32le(Number(r.hnum)), Buffer.from(r.blob as Uint8Array)]);
    writeFileSync(join(outDir, "Packages.dump"), dumpText("hash", pkgItems, ["h_ffactor=8"]));
    const names = ["Packages"];
    const tables = all(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
      .map((r) => String(r.name))
      .filter((t) => !["Packages", "sqlite_sequence", "sqlite_stat1"].includes(t));
    for (const t of tables) {
      const byKey = new Map<string, { key: Buffer; pairs: Buffer[] }>();
      for (const r of all(db, `SELECT key, hnum, idx FROM '${t}' ORDER BY hnum, idx`)) {
        const key = keyBytes(r.key);
        const id = key.toString("hex");
        const entry = byKey.get(id) ?? { key, pairs: [] };
        entry.pairs.push(Buffer.concat([u32le(Number(r.hnum)), u32le(Number(r.idx))]));
        byKey.set(id, entry);
      }
      // btree keys in byte order, as Berkeley DB's default comparison keeps them
      const items = [...byKey.values()]
        .sort((a, b) => Buffer.compare(a.key, b.key))
        .map((e): [Buffer, Buffer] => [e.key, Buffer.concat(e.pairs)]);
      writeFileSync(join(outDir, `${t}.dump`), dumpText("btree", items));
      names.push(t);
    }
    return names;
  } finally {
    db.close();
  }
}

/** Replaces rpmdb.sqlite in `dbDir` by Berkeley DB files (Packages, Name, Basenames, ...). */
export async function convertToBdb(dbDir: string, workDir: string): Promise<void> {
  const names = await sqliteToDumps(join(dbDir, "rpmdb.sqlite"), workDir);
  for (const n of names) await run("db5.3_load", ["-f", join(workDir, `${n}.dump`), join(dbDir, n)]);
  for (const f of ["rpmdb.sqlite", "rpmdb.sqlite-wal", "rpmdb.sqlite-shm"])
    rmSync(join(dbDir, f), { force: true });
}
