/**
 * SQLite files as the real sqlite3 leaves them mid-life: statements run in a live sqlite3 process and the
 * database and its write-ahead log are copied while it still holds them open (nothing checkpointed, an
 * open transaction's spilled pages still uncommitted in the log).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";

/** Runs `statements` in sqlite3 on `dbFile`, then copies rpmdb.sqlite and rpmdb.sqlite-wal into `outDir`. */
export async function walSnapshot(dbFile: string, statements: string, outDir: string): Promise<void> {
  const child = spawn("sqlite3", [dbFile], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("READY")) resolve();
    });
    child.on("close", () => reject(new Error(`sqlite3 exited early: ${err}`)));
  });
  child.stdin.on("error", () => {}); // an early exit is reported by `ready` with sqlite3's stderr
  child.stdin.write(`PRAGMA wal_autocheckpoint=0;\n${statements}\n.print READY\n`);
  await ready;
  if (err !== "") throw new Error(`sqlite3: ${err}`);
  copyFileSync(dbFile, join(outDir, "rpmdb.sqlite"));
  if (existsSync(`${dbFile}-wal`)) copyFileSync(`${dbFile}-wal`, join(outDir, "rpmdb.sqlite-wal"));
  const closed = new Promise((r) => child.on("close", r));
  child.stdin.end(".quit\n");
  await closed;
}
