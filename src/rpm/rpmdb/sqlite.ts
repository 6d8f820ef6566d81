/**
 * rpm's `rpmdb.sqlite` (AlmaLinux 9/10): table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, read
 * with sql.js from a Buffer. rpm keeps the file in WAL mode; the caller applies `-wal` first (wal.ts),
 * and the copy handed to sql.js is switched out of WAL mode so SQLite never looks for a log.
 */
import { createRequire } from "node:module";
import type { SqlJsStatic } from "sql.js";
import { RpmFormatError } from "../../errors.js";
import { leaveWalMode } from "./wal.js";

export interface SqliteRecord {
  readonly hnum: number;
  readonly blob: Buffer;
}

let sqlJs: Promise<SqlJsStatic> | undefined;

/** sql.js, loaded once; its wasm is found through Node's resolver so this works from src and from dist. */
function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= (async () => {
    const wasm = createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm");
    const init = (await import("sql.js")).default;
    return init({ locateFile: () => wasm });
  })();
  return sqlJs;
}

/** Every row of `Packages`, by ascending hnum. */
export async function readSqlitePackages(file: Buffer, what = "rpmdb.sqlite"): Promise<SqliteRecord[]> {
  if (file.length < 100 || file.toString("latin1", 0, 16) !== "SQLite format 3\0") {
    throw new RpmFormatError(`${what}: not an SQLite 3 database`);
  }
  const SQL = await loadSqlJs();
  let db: InstanceType<SqlJsStatic["Database"]> | undefined;
  try {
    db = new SQL.Database(leaveWalMode(Buffer.from(file)));
    // One exec returns every row; stepping a statement row by row is slower in sql.js.
    const result = db.exec("SELECT hnum, blob FROM Packages ORDER BY hnum");
    const rows: SqliteRecord[] = [];
    for (const [hnum, blob] of result[0]?.values ?? []) {
      if (typeof hnum !== "number" || !(blob instanceof Uint8Array)) {
        throw new RpmFormatError(`${what}: Packages row ${String(hnum)} has no header blob`);
      }
      rows.push({ hnum, blob: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) });
    }
    return rows;
  } catch (e) {
    if (e instanceof RpmFormatError) throw e;
    throw new RpmFormatError(`${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    db?.close();
  }
}
