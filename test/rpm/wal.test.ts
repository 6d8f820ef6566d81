/**
 * rpmdb.sqlite with its write-ahead log. The real sqlite3 writes committed transactions into the WAL
 * of an rpm database and the pair is copied while sqlite3 still holds it open (so nothing is
 * checkpointed). rpm, reading a copy of the same pair, is the oracle. Then the log is cut, salted,
 * extended with uncommitted frames (by an independent writer below) and broken, and each time our reader
 * must see what rpm/sqlite see.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import { applyWal, hostRpmdbDir, nevra, readRpmdb } from "../../src/rpm/index.js";
import { sqliteRows } from "../helpers/bdb.js";
import { rpmQuery } from "../helpers/rpmbuild.js";
import { walSnapshot } from "../helpers/sqlite-live.js";
import { dbDir, generatedRoot } from "./generated.js";

const QF = "%{DBINSTANCE} %{NEVRA}\n";
let root: string;
let work: string;
/** The database file as it was before the transactions (also the file copied next to the log). */
let db: Buffer;
/** The log holding the transactions. */
let wal: Buffer;

function dirWith(files: Record<string, Buffer>): string {
  const d = mkdtempSync(join(work, "db-"));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
  return d;
}

async function ours(dir: string): Promise<string> {
  const r = await readRpmdb(hostRpmdbDir(dir));
  return r.packages.map((p, i) => `${r.instances[i]} ${nevra(p)}\n`).join("");
}

beforeAll(async () => {
  root = generatedRoot("x86_64");
  work = mkdtempSync(join(tmpdir(), "wal-"));
  const live = mkdtempSync(join(work, "live-"));
  copyFileSync(join(dbDir(root), "rpmdb.sqlite"), join(live, "rpmdb.sqlite"));
  const snap = mkdtempSync(join(work, "snap-"));
  // Three transactions: a delete, a copy of two headers under new numbers, a replaced header.
  await walSnapshot(
    join(live, "rpmdb.sqlite"),
    [
      "DELETE FROM Packages WHERE hnum IN (3, 5);",
      "INSERT INTO Packages(hnum, blob) SELECT hnum + 1000, blob FROM Packages WHERE hnum IN (1, 2);",
      "UPDATE Packages SET blob = (SELECT blob FROM Packages WHERE hnum = 7) WHERE hnum = 8;",
    ].join("\n"),
    snap,
  );
  db = readFileSync(join(snap, "rpmdb.sqlite"));
  wal = readFileSync(join(snap, "rpmdb.sqlite-wal"));
}, 600_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

// An independent WAL frame writer (https://www.sqlite.org/fileformat2.html#walformat).
const bigEndianSums = () => wal.readUInt32BE(0) === 0x377f0683;
function checksum(data: Buffer, s: [number, number]): [number, number] {
  let [a, b] = s;
  for (let i = 0; i < data.length; i += 8) {
    const r = (o: number) => (bigEndianSums() ? data.readUInt32BE(o) : data.readUInt32LE(o));
    a = (a + r(i) + b) >>> 0;
    b = (b + r(i + 4) + a) >>> 0;
  }
  return [a, b];
}
const pageSize = () => wal.readUInt32BE(8);
const frameCount = (w: Buffer) => Math.floor((w.length - 32) / (24 + pageSize()));
/** Appends a frame for `pgno` with `page`, chaining the checksum from the log's last frame. */
function appendFrame(w: Buffer, pgno: number, page: Buffer, commitSize: number): Buffer {
  const last = 32 + (frameCount(w) - 1) * (24 + pageSize());
  const prev: [number, number] = [w.readUInt32BE(last + 16), w.readUInt32BE(last + 20)];
  const h = Buffer.alloc(24);
  h.writeUInt32BE(pgno, 0);
  h.writeUInt32BE(commitSize, 4);
  w.copy(h, 8, 16, 24); // salts
  const [a, b] = checksum(page, checksum(h.subarray(0, 8), prev));
  h.writeUInt32BE(a, 16);
  h.writeUInt32BE(b, 20);
  return Buffer.concat([w, h, page]);
}

describe("rpmdb.sqlite with a WAL", () => {
  it("the committed transactions in the log are what rpm sees, and they matter", async () => {
    const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": wal });
    const expected = rpmQuery(dir, QF);
    expect(await ours(dir)).toBe(expected);
    expect(expected).toContain("1001 ");
    expect(expected).not.toMatch(/^3 /m);
    // Without its log the file is the database before the transactions.
    const alone = dirWith({ "rpmdb.sqlite": db });
    expect(await ours(alone)).toBe(rpmQuery(alone, QF));
    expect(await ours(alone)).not.toBe(expected);
    const r = applyWal(db, wal);
    expect(r.framesApplied).toBe(frameCount(wal));
    expect(r.framesIgnored).toBe(0);
  });

  it("a log cut inside a frame: the transactions before the cut, as sqlite recovers it", async () => {
    const frames = frameCount(wal);
    for (const keep of [1, Math.floor(frames / 2), frames - 1]) {
      const cut = wal.subarray(0, 32 + keep * (24 + pageSize()) + 100);
      const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": cut });
      expect(await ours(dir), `keep ${keep} frames`).toBe(rpmQuery(dir, QF));
    }
  });

  it("frames after the last commit, or with a wrong salt or checksum, are ignored", async () => {
    const last = 32 + (frameCount(wal) - 1) * (24 + pageSize());
    const page1 = Buffer.from(db.subarray(0, pageSize()));
    page1.fill(0x55, 200, 400); // would damage the schema page if applied
    const uncommitted = appendFrame(wal, 1, page1, 0);
    const badSalt = Buffer.from(wal);
    badSalt.writeUInt32BE((badSalt.readUInt32BE(last + 8) ^ 1) >>> 0, last + 8);
    const badSum = Buffer.from(wal);
    badSum.writeUInt32BE((badSum.readUInt32BE(last + 20) ^ 1) >>> 0, last + 20);
    for (const [label, w] of [
      ["uncommitted frame", uncommitted],
      ["wrong salt", badSalt],
      ["wrong checksum", badSum],
    ] as const) {
      const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": w });
      expect(await ours(dir), label).toBe(rpmQuery(dir, QF));
    }
    expect(applyWal(db, uncommitted).framesIgnored).toBe(1);
    // The real sqlite3 agrees that the damaged page never reaches the database.
    const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": uncommitted });
    expect(sqliteRows(join(dir, "rpmdb.sqlite"), "PRAGMA integrity_check")).toEqual([["ok"]]);
  });

  it("a log whose header checksum or magic is wrong is ignored, as sqlite ignores it", async () => {
    const badHeader = Buffer.from(wal);
    badHeader.writeUInt32BE((badHeader.readUInt32BE(24) ^ 1) >>> 0, 24);
    const badMagic = Buffer.from(wal);
    badMagic.writeUInt32BE(0x12345678, 0);
    for (const w of [badHeader, badMagic, wal.subarray(0, 20), Buffer.alloc(0)]) {
      const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": w });
      expect(await ours(dir)).toBe(rpmQuery(dir, QF));
      expect(applyWal(db, w).framesApplied).toBe(0);
    }
  });

  it("a log with big-endian checksums (as a big-endian host writes it)", async () => {
    // Rewrite the real log's header and frame checksums in the other byte order.
    const be = Buffer.from(wal);
    be.writeUInt32BE(0x377f0683, 0);
    const sum = (data: Buffer, s: [number, number]): [number, number] => {
      let [a, b] = s;
      for (let i = 0; i < data.length; i += 8) {
        a = (a + data.readUInt32BE(i) + b) >>> 0;
        b = (b + data.readUInt32BE(i + 4) + a) >>> 0;
      }
      return [a, b];
    };
    let s = sum(be.subarray(0, 24), [0, 0]);
    be.writeUInt32BE(s[0], 24);
    be.writeUInt32BE(s[1], 28);
    const frame = 24 + pageSize();
    for (let off = 32; off + frame <= be.length; off += frame) {
      s = sum(be.subarray(off + 24, off + frame), sum(be.subarray(off, off + 8), s));
      be.writeUInt32BE(s[0], off + 16);
      be.writeUInt32BE(s[1], off + 20);
    }
    const dir = dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": be });
    const expected = rpmQuery(dir, QF);
    expect(expected).toBe(rpmQuery(dirWith({ "rpmdb.sqlite": db, "rpmdb.sqlite-wal": wal }), QF));
    expect(await ours(dir)).toBe(expected);
    expect(applyWal(db, be).framesApplied).toBe(frameCount(wal));
  });

  it("an unknown WAL format version is an error (sqlite refuses to open it)", () => {
    const v = Buffer.from(wal);
    v.writeUInt32BE(3007001, 4);
    expect(() => applyWal(db, v)).toThrow(RpmFormatError);
  });

  it("a new database whose table exists only in the log", async () => {
    const live = mkdtempSync(join(work, "new-"));
    const snap = mkdtempSync(join(work, "newsnap-"));
    const file = join(live, "rpmdb.sqlite");
    const blobs = sqliteRows(
      join(dbDir(root), "rpmdb.sqlite"),
      "SELECT hnum, hex(blob) FROM Packages WHERE hnum <= 4",
    );
    await walSnapshot(
      file,
      [
        "PRAGMA journal_mode=WAL;",
        // rpm's own schema (tables and indexes), taken from a database rpm made.
        ...sqliteRows(
          join(dbDir(root), "rpmdb.sqlite"),
          "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL",
        )
          .map(([sql]) => sql!)
          .filter((sql) => !/sqlite_(sequence|stat)/.test(sql)),
        ...blobs.map(([h, b]) => `INSERT INTO Packages VALUES (${h}, X'${b}');`),
      ].join("\n"),
      snap,
    );
    // sqlite3 wrote only the first page (the header switching to WAL mode); the table lives in the log.
    const main = readFileSync(join(snap, "rpmdb.sqlite"));
    expect(main.length).toBe(4096);
    await expect(ours(dirWith({ "rpmdb.sqlite": main }))).rejects.toThrow(/no such table: Packages/);
    expect(await ours(snap)).toBe(rpmQuery(snap, QF));
    expect((await ours(snap)).split("\n").filter(Boolean)).toHaveLength(4);
  });
});
