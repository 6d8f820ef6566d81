/**
 * Missing, empty and damaged rpm databases: every one is an RpmFormatError with a message naming the
 * problem, never a crash or a hang. Damage is made at known places with the formats' own layouts.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import {
  hostRpmdbDir,
  nevra,
  readBdbHash,
  readNdb,
  readRpmdb,
  readSqlitePackages,
} from "../../src/rpm/index.js";
import { dbLoad, packagesRecords, sqliteHeaderBlobs, sqliteToBdb } from "../helpers/bdb.js";
import { rpmQuery } from "../helpers/rpmbuild.js";
import { dbDir, generatedRoot } from "./generated.js";

const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
let work: string;
let root: string;
/** A generated Berkeley DB Packages file: little-endian, 4 KiB pages, headers in overflow chains. */
let bdb: Buffer;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "rpmdb-bad-"));
  root = generatedRoot("x86_64");
  const dir = join(work, "bdb");
  sqliteToBdb(join(dbDir(root), "rpmdb.sqlite"), dir, { indexes: false });
  bdb = readFileSync(join(dir, "Packages"));
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

function dirWith(files: Record<string, Buffer>): string {
  const d = mkdtempSync(join(work, "d-"));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
  return d;
}

const read = (files: Record<string, Buffer>) => readRpmdb(hostRpmdbDir(dirWith(files)));

describe("choosing the database", () => {
  it("an empty directory, or one that does not exist", async () => {
    await expect(read({})).rejects.toThrow(
      /no rpm database found \(expected rpmdb.sqlite, Packages.db, Packages\)/,
    );
    await expect(readRpmdb(hostRpmdbDir(join(work, "nowhere")))).rejects.toThrow(RpmFormatError);
  });

  it("sqlite wins over a leftover Berkeley DB, ndb over bdb", async () => {
    const sqlite = readFileSync(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite"));
    const ndb = readFileSync(join(DATA, "ndb-sle15-bci/Packages.db"));
    expect((await read({ "rpmdb.sqlite": sqlite, Packages: bdb, "Packages.db": ndb })).format).toBe("sqlite");
    expect((await read({ Packages: bdb, "Packages.db": ndb })).format).toBe("ndb");
  });
});

describe("sqlite", () => {
  const mariner = () => readFileSync(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite"));

  it.each([
    ["empty", () => Buffer.alloc(0), /not an SQLite 3 database/],
    ["random bytes", () => Buffer.alloc(8192, 0x5a), /not an SQLite 3 database/],
    ["cut in half", () => mariner().subarray(0, mariner().length / 2), /malformed/],
    ["first page only", () => mariner().subarray(0, 4096), /malformed/],
  ])("%s → RpmFormatError", async (_name, make, message) => {
    await expect(read({ "rpmdb.sqlite": make() })).rejects.toThrow(RpmFormatError);
    await expect(read({ "rpmdb.sqlite": make() })).rejects.toThrow(message);
  });

  it("a database without a Packages table, and rows without header blobs", async () => {
    const dir = mkdtempSync(join(work, "sq-"));
    const file = join(dir, "rpmdb.sqlite");
    execFileSync("sqlite3", [file, "CREATE TABLE Other (x);"]);
    expect(() => readSqlitePackages(readFileSync(file))).toThrow(/no such table: Packages/);
    execFileSync("sqlite3", [
      file,
      "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); INSERT INTO Packages VALUES (1, NULL);",
    ]);
    expect(() => readSqlitePackages(readFileSync(file))).toThrow(/row 1 has no header blob/);
    execFileSync("sqlite3", [
      file,
      "DELETE FROM Packages; INSERT INTO Packages VALUES (7, X'0000000100000010');",
    ]);
    await expect(readRpmdb(hostRpmdbDir(dir))).rejects.toThrow(/rpmdb.sqlite record 7: truncated/);
  });

  it("a damaged header in an otherwise good database names its record", async () => {
    const dir = mkdtempSync(join(work, "sq-"));
    copyFileSync(join(dbDir(root), "rpmdb.sqlite"), join(dir, "rpmdb.sqlite"));
    // Upper-case the first letter of record 2's NAME (in the region: the SHA256HEADER digest no longer matches).
    const name = execFileSync(
      "sqlite3",
      [join(dir, "rpmdb.sqlite"), "SELECT hex(blob) FROM Packages WHERE hnum = 2"],
      {
        encoding: "utf8",
      },
    ).trim();
    const blob = Buffer.from(name, "hex");
    const il = blob.readUInt32BE(0);
    let at = -1;
    for (let i = 0; i < il; i++) {
      if (blob.readUInt32BE(8 + 16 * i) === 1000) at = 8 + 16 * il + blob.readUInt32BE(8 + 16 * i + 8);
    }
    blob[at] = blob[at]! ^ 0x20;
    execFileSync("sqlite3", [
      join(dir, "rpmdb.sqlite"),
      `UPDATE Packages SET blob = X'${blob.toString("hex")}' WHERE hnum = 2`,
    ]);
    await expect(readRpmdb(hostRpmdbDir(dir))).rejects.toThrow(
      /rpmdb.sqlite record 2: header SHA256 digest mismatch/,
    );
  });
});

/** Berkeley DB layout facts used to aim the damage (little-endian file). */
const meta = (b: Buffer) => ({
  pageSize: b.readUInt32LE(20),
  lastPage: b.readUInt32LE(32),
  spare0: b.readUInt32LE(96),
});
function pagesOfType(b: Buffer, type: number): number[] {
  const { pageSize, lastPage } = meta(b);
  const out: number[] = [];
  for (let p = 1; p <= lastPage; p++) if (b[p * pageSize + 25] === type) out.push(p);
  return out;
}

describe("Berkeley DB", () => {
  const damage = (edit: (b: Buffer, m: ReturnType<typeof meta>) => void): Buffer => {
    const b = Buffer.from(bdb);
    edit(b, meta(b));
    return b;
  };
  const firstBucket = (m: ReturnType<typeof meta>) => (0 + m.spare0) * m.pageSize;

  it("the undamaged file reads", async () => {
    expect((await read({ Packages: bdb })).packages.length).toBe(33);
    expect(pagesOfType(bdb, 7).length).toBeGreaterThan(10); // overflow pages exist
  });

  it.each([
    [
      "a bucket page whose next page is itself",
      (b, m) => b.writeUInt32LE(m.spare0, firstBucket(m) + 16),
      /page loop/,
    ],
    [
      "an overflow chain that loops",
      (b, m) => {
        const p = pagesOfType(b, 7).find((x) => b.readUInt32LE(x * m.pageSize + 16) !== 0)!;
        b.writeUInt32LE(p, p * m.pageSize + 16);
      },
      /page loop/,
    ],
    [
      "a next page beyond the last page",
      (b, m) => b.writeUInt32LE(m.lastPage + 5, firstBucket(m) + 16),
      /outside 1\.\.\d+/,
    ],
    [
      "a next page of 0xffffffff",
      (b, m) => b.writeUInt32LE(0xffffffff, firstBucket(m) + 16),
      /outside 1\.\.\d+/,
    ],
    ["bad magic", (b) => b.writeUInt32LE(0x00053162, 12), /not a Berkeley DB hash database/],
    ["hash version 7", (b) => b.writeUInt32LE(7, 16), /unsupported hash version 7/],
    ["page size 1000", (b) => b.writeUInt32LE(1000, 20), /invalid page size 1000/],
    ["encrypted", (b) => b.writeUInt8(1, 24), /encrypted/],
    ["max bucket beyond the file", (b) => b.writeUInt32LE(0x7fffffff, 72), /max bucket/],
    [
      "a page that says it is another page",
      (b, m) => b.writeUInt32LE(999, firstBucket(m) + 8),
      /says it is page 999/,
    ],
    [
      "a bucket page of the wrong type",
      (b, m) => b.writeUInt8(5, firstBucket(m) + 25),
      /expected a hash page/,
    ],
    ["an odd item count", (b, m) => b.writeUInt16LE(3, firstBucket(m) + 20), /claims 3 items/],
    [
      "item offsets out of order",
      (b, m) => b.writeUInt16LE(m.pageSize - 1, firstBucket(m) + 28),
      /out of order|outside the page/,
    ],
    [
      "an unsupported item type",
      (b, m) => b.writeUInt8(2, firstBucket(m) + b.readUInt16LE(firstBucket(m) + 26)),
      /item type 2/,
    ],
    [
      "an overflow page claiming more bytes than the page holds",
      (b, m) => b.writeUInt16LE(m.pageSize, pagesOfType(b, 7)[0]! * m.pageSize + 22),
      /overflow page \d+ holds/,
    ],
  ] as [string, (b: Buffer, m: ReturnType<typeof meta>) => void, RegExp][])(
    "%s → RpmFormatError",
    async (_n, edit, message) => {
      const b = damage(edit);
      const t0 = Date.now();
      expect(() => readBdbHash(b)).toThrow(RpmFormatError);
      expect(() => readBdbHash(b)).toThrow(message);
      await expect(read({ Packages: b })).rejects.toThrow(RpmFormatError);
      expect(Date.now() - t0).toBeLessThan(5000);
    },
  );

  it("a truncated file and a file too short for its meta page", async () => {
    await expect(read({ Packages: bdb.subarray(0, bdb.length - 4096) })).rejects.toThrow(
      /past the end|outside|loop/,
    );
    await expect(read({ Packages: bdb.subarray(0, 4096) })).rejects.toThrow(
      /page \d+ lies past the end of the file/,
    );
    await expect(read({ Packages: bdb.subarray(0, 100) })).rejects.toThrow(/too short for a meta page/);
  });

  it("a key that is not a 4-byte header number", async () => {
    const dir = mkdtempSync(join(work, "k-"));
    dbLoad(join(dir, "Packages"), "hash", [{ key: Buffer.from("names"), value: Buffer.from("x") }]);
    await expect(readRpmdb(hostRpmdbDir(dir))).rejects.toThrow(/key of 5 bytes \(expected 4\)/);
  });

  it("a bucket page allocated but never written (db_load leaves one in a tiny database) is an empty bucket", async () => {
    // rpm's bdb_ro gives up on such a file ("error reading Packages database"); libdb reads the bucket as
    // empty. The expected packages are the headers that went in.
    const blobs = sqliteHeaderBlobs(join(dbDir(root), "rpmdb.sqlite")).slice(0, 1);
    const dir = mkdtempSync(join(work, "z-"));
    dbLoad(join(dir, "Packages"), "hash", packagesRecords(blobs, { noKey0: true }));
    const file = readFileSync(join(dir, "Packages"));
    expect(file.subarray(4096, 8192).every((x) => x === 0)).toBe(true);
    const db = await readRpmdb(hostRpmdbDir(dir));
    expect(db.instances).toEqual([blobs[0]!.hnum]);
    // Every bucket page blank: no packages at all (the verifier then reports the release package missing).
    const blank = Buffer.from(bdb);
    blank.fill(0, 4096);
    expect((await read({ Packages: blank })).packages).toEqual([]);
    const rpmSays = rpmQuery(dbDir(root), "%{DBINSTANCE} %{NEVRA}\n").split("\n");
    expect(rpmSays).toContain(`${blobs[0]!.hnum} ${nevra(db.packages[0]!)}`);
  });
});

describe("NDB", () => {
  const ndb = () => readFileSync(join(DATA, "ndb-sle15-bci/Packages.db"));
  /** Byte offset of the first used slot, and its blob. */
  const firstSlot = (b: Buffer) => {
    for (let o = 32; o < 4096; o += 16) {
      if (b.readUInt32LE(o + 8) !== 0)
        return { slot: o, blob: b.readUInt32LE(o + 8) * 16, blocks: b.readUInt32LE(o + 12) };
    }
    throw new Error("no slot");
  };

  it.each([
    ["bad header magic", (b: Buffer) => b.write("XpmP", 0), /bad magic/],
    ["version 1", (b: Buffer) => b.writeUInt32LE(1, 4), /unsupported version 1/],
    ["more slot pages than the file", (b: Buffer) => b.writeUInt32LE(100000, 12), /slot pages do not fit/],
    ["a slot with a bad magic", (b: Buffer) => b.write("Xlot", firstSlot(b).slot), /bad magic/],
    [
      "a slot pointing into the slot area",
      (b: Buffer) => b.writeUInt32LE(1, firstSlot(b).slot + 8),
      /is invalid/,
    ],
    [
      "a blob past the end",
      (b: Buffer) => b.writeUInt32LE(0x7fffffff, firstSlot(b).slot + 12),
      /past the end/,
    ],
    [
      "two slots for one blob",
      (b: Buffer) => {
        const s = firstSlot(b);
        b.copy(b, s.slot + 16, s.slot, s.slot + 16);
      },
      /overlaps|two slots/,
    ],
    ["a blob head magic", (b: Buffer) => b.write("XlbS", firstSlot(b).blob), /bad blob head magic/],
    [
      "a blob of another package",
      (b: Buffer) => b.writeUInt32LE(999, firstSlot(b).blob + 4),
      /belongs to package 999/,
    ],
    [
      "a blob length that disagrees",
      (b: Buffer) => b.writeUInt32LE(5, firstSlot(b).blob + 12),
      /does not match its/,
    ],
    [
      "a changed byte in a blob",
      (b: Buffer) => b.writeUInt8(b[firstSlot(b).blob + 100]! ^ 1, firstSlot(b).blob + 100),
      /checksum mismatch/,
    ],
    [
      "a blob tail magic",
      (b: Buffer) => b.write("XlbE", firstSlot(b).blob + firstSlot(b).blocks * 16 - 4),
      /tail magic/,
    ],
    ["a file cut inside the blobs", (b: Buffer) => b.fill(0, b.length - 16), /./],
  ])("%s → RpmFormatError", async (_n, edit, message) => {
    const b = ndb();
    edit(b);
    expect(() => readNdb(b)).toThrow(RpmFormatError);
    expect(() => readNdb(b)).toThrow(message);
    await expect(read({ "Packages.db": b })).rejects.toThrow(RpmFormatError);
  });

  it("a file whose size is not a multiple of 16, and one too short for its header", () => {
    expect(() => readNdb(ndb().subarray(0, ndb().length - 3))).toThrow(/not a multiple of 16/);
    expect(() => readNdb(ndb().subarray(0, 20))).toThrow(/too short/);
  });
});
