/**
 * Our sqlite reader against Debian's sqlite3, byte for byte: `SELECT hnum, hex(blob) FROM Packages
 * ORDER BY hnum` on the real fixture and on databases sqlite3 writes here (page sizes 512 to 65536,
 * overflow chains, interior pages, reserved bytes, auto-vacuum pointer maps, UTF-16 schemas, hnum as an
 * ordinary column), read whole and window by window, and on write-ahead logs as a live sqlite3 leaves
 * them: committed transactions not checkpointed, and an open transaction's pages spilled into the log
 * (uncommitted: ignored).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import { forEachSqlitePackageIn, readSqlitePackages, readWal } from "../../src/rpm/index.js";
import { sqliteRows } from "../helpers/bdb.js";
import { rng } from "../helpers/mutate.js";
import { runCommand } from "../helpers/process.js";
import { walSnapshot } from "../helpers/sqlite-live.js";

const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
const RPM_SCHEMA =
  "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);";
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sqlite-reader-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** sqlite3's answer for the database in `dir` (file and log copied first: sqlite3 may write beside them). */
function oracle(dir: string): string {
  return sqliteRows(join(dir, "rpmdb.sqlite"), "SELECT hnum, hex(blob) FROM Packages ORDER BY hnum")
    .map(([h, b]) => `${h} ${b ?? ""}\n`)
    .join("");
}

/**
 * Our rows for the database in `dir`, read whole from memory and read window by window from the open
 * file (as verify reads it from an image): both must give the same answer.
 */
async function ours(dir: string): Promise<string> {
  const path = join(dir, "rpmdb.sqlite");
  const file = readFileSync(path);
  let wal: Buffer | null = null;
  try {
    wal = readFileSync(join(dir, "rpmdb.sqlite-wal"));
  } catch {
    // no log
  }
  const text = (rows: { hnum: number; blob: Buffer }[]) =>
    rows.map((r) => `${r.hnum} ${r.blob.toString("hex").toUpperCase()}\n`).join("");
  const whole = text(readSqlitePackages(file, "rpmdb.sqlite", wal));
  const windowed: { hnum: number; blob: Buffer }[] = [];
  const handle = await openFile(path, "r");
  try {
    const opened = {
      size: file.length,
      readInto: async (offset: number, length: number, target: Buffer, at: number) => {
        const { bytesRead } = await handle.read(target, at, length, offset);
        if (bytesRead !== length) throw new Error(`short read at ${offset}`);
      },
    };
    await forEachSqlitePackageIn(opened, wal, (hnum, blob) =>
      windowed.push({ hnum, blob: Buffer.from(blob) }),
    );
  } finally {
    await handle.close();
  }
  expect(text(windowed), "read window by window").toBe(whole);
  return whole;
}

async function sqlite3(file: string, sql: string): Promise<void> {
  const r = await runCommand("sqlite3", [file], { input: sql });
  if (r.code !== 0 || r.stderr !== "") throw new Error(`sqlite3: ${r.stderr}`);
}

/** Blobs of many sizes: empty, small, around every page size's local-payload limits, and large. */
function blobSizes(seed: number, count: number): number[] {
  const r = rng(seed);
  const edges = [0, 1, 100, 477, 478, 479, 989, 990, 4061, 4062, 4096, 65501, 65502, 200_000];
  return Array.from({ length: count }, (_, i) =>
    i < edges.length ? edges[i]! : Math.floor(r() ** 3 * 60_000),
  );
}

/** Rows with random blobs (sqlite3's randomblob: the oracle reads the same file) of blobSizes. */
function inserts(seed: number, count: number, firstHnum = 1): string {
  return blobSizes(seed, count)
    .map((n, i) => `INSERT INTO Packages VALUES (${firstHnum + i * 3}, randomblob(${n}));`)
    .join("\n");
}

describe("sqlite reader against sqlite3", () => {
  it("the real CBL-Mariner rpmdb.sqlite", async () => {
    const dir = mkdtempSync(join(work, "mariner-"));
    copyFileSync(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite"), join(dir, "rpmdb.sqlite"));
    const expected = oracle(dir);
    expect(expected.split("\n").length).toBe(130);
    expect(await ours(dir)).toBe(expected);
  });

  it.each([
    ["512-byte pages", "PRAGMA page_size=512;", 1],
    ["1 KiB pages, 8 reserved bytes per page", "PRAGMA page_size=1024;\n.filectrl reserve_bytes 8", 2],
    ["4 KiB pages, auto-vacuum (pointer-map pages)", "PRAGMA page_size=4096; PRAGMA auto_vacuum=FULL;", 3],
    ["64 KiB pages", "PRAGMA page_size=65536;", 4],
    ["a UTF-16be schema", "PRAGMA encoding='UTF-16be';", 5],
  ])("%s: interior pages and overflow chains", async (_name, setup, seed) => {
    const dir = mkdtempSync(join(work, "gen-"));
    const file = join(dir, "rpmdb.sqlite");
    // enough rows for interior pages; deletes leave free pages behind
    await sqlite3(
      file,
      `${setup}\n${RPM_SCHEMA}\nBEGIN;\n${inserts(seed, 160)}\nCOMMIT;\nDELETE FROM Packages WHERE hnum % 7 = 0;\n`,
    );
    const expected = oracle(dir);
    expect(expected.split("\n").length).toBeGreaterThan(120);
    expect(await ours(dir)).toBe(expected);
  });

  it("hnum as an ordinary column: rows sorted by it, as ORDER BY does", async () => {
    const dir = mkdtempSync(join(work, "plain-"));
    const file = join(dir, "rpmdb.sqlite");
    const rows = [9, 2, 7, 2, 5].map(
      (h, i) => `INSERT INTO Packages VALUES (X'${"ab".repeat(i * 900)}', ${h});`,
    );
    await sqlite3(file, `CREATE TABLE Packages (blob BLOB, hnum INTEGER);\n${rows.join("\n")}\n`);
    expect(await ours(dir)).toBe(oracle(dir));
    expect((await ours(dir)).split("\n").map((l) => l.split(" ")[0])).toEqual(["2", "2", "5", "7", "9", ""]);
  });

  it.each([512, 65536])(
    "write-ahead log, %i-byte pages: committed frames applied, an open transaction's ignored",
    async (pageSize) => {
      const live = mkdtempSync(join(work, "live-"));
      const file = join(live, "rpmdb.sqlite");
      await sqlite3(
        file,
        `PRAGMA page_size=${pageSize};\nPRAGMA journal_mode=WAL;\n${RPM_SCHEMA}\nBEGIN;\n${inserts(10, 40)}\nCOMMIT;\n`,
      );
      // committed in the log only: deletes, inserts, an update
      const committed = mkdtempSync(join(work, "committed-"));
      const changes = [
        "DELETE FROM Packages WHERE hnum % 2 = 0;",
        inserts(11, 30, 1000),
        "UPDATE Packages SET blob = X'00112233' WHERE hnum = 1;",
      ].join("\n");
      await walSnapshot(file, changes, committed);
      const logged = readWal(
        readFileSync(join(committed, "rpmdb.sqlite")),
        readFileSync(join(committed, "rpmdb.sqlite-wal")),
      );
      expect(logged.framesApplied).toBeGreaterThan(10);
      expect(await ours(committed)).toBe(oracle(committed));
      expect(oracle(committed)).toContain("\n1000 ");

      // a transaction too big for a 2-page cache spills its pages into the log before it commits (valid
      // frames while no page is spilled twice: sqlite3 fixes the checksums of rewritten frames at commit,
      // so big rows, whose overflow pages are written once)
      const bigRows = Array.from(
        { length: 20 },
        (_, i) => `INSERT INTO Packages VALUES (${5000 + i}, randomblob(${150_000 + i * 7}));`,
      );
      const open = mkdtempSync(join(work, "open-"));
      await walSnapshot(file, `PRAGMA cache_size=2;\nBEGIN;\n${bigRows.join("\n")}`, open);
      const spilled = readWal(
        readFileSync(join(open, "rpmdb.sqlite")),
        readFileSync(join(open, "rpmdb.sqlite-wal")),
      );
      expect(spilled.framesIgnored).toBeGreaterThan(0);
      const expected = oracle(open);
      expect(expected).not.toContain("\n5000 ");
      expect(await ours(open)).toBe(expected);
    },
  );

  it("damage sqlite3 also refuses is a typed error naming the problem", async () => {
    const dir = mkdtempSync(join(work, "bad-"));
    const file = join(dir, "rpmdb.sqlite");
    await sqlite3(file, `PRAGMA page_size=1024;\n${RPM_SCHEMA}\n${inserts(20, 30)}\n`);
    const good = readFileSync(file);
    // a leaf page of Packages, as sqlite3's dbstat table names it
    const page = sqliteRows(
      file,
      "SELECT pageno FROM dbstat WHERE name = 'Packages' AND pagetype = 'leaf' LIMIT 1",
    )[0]![0];
    const leaf = () => (Number(page) - 1) * 1024;
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ["a cell pointer off the page", (b) => b.writeUInt16BE(1030, leaf() + 8), /cell pointer/],
      ["a page of another type", (b) => (b[leaf()] = 0x0a), /expected a table b-tree page/],
      ["page size 3000", (b) => b.writeUInt16BE(3000, 16), /page size/],
      ["read version 3", (b) => (b[19] = 3), /read version/],
    ];
    for (const [name, damage, message] of cases) {
      const b = Buffer.from(good);
      damage(b);
      writeFileSync(file, b);
      expect(() => oracle(dir), name).toThrow(/malformed|not a database/);
      expect(() => readSqlitePackages(b), name).toThrow(RpmFormatError);
      expect(() => readSqlitePackages(b), name).toThrow(message);
    }
  });
});
