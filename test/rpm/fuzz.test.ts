/**
 * Fuzzing the header codec and the Berkeley DB, NDB and sqlite readers: seeded mutations
 * (test/helpers/mutate.ts) aimed at intros, index entries, region trailers, page headers, item offsets,
 * slots, blob frames, b-tree pages, cell pointers, overflow chains and write-ahead log frames.
 * Every case must end in data or an RpmFormatError: no other exception, no hang (a watchdog stops the
 * worker). Then, with rpm as the oracle: on mutated real headers, we accept exactly what rpm accepts.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseHeader, verifyHeaderDigest } from "../../src/rpm/index.js";
import { sqliteHeaderBlobs, sqliteToBdb } from "../helpers/bdb.js";
import { bundleWorker, runFuzzWorker } from "../helpers/fuzz-worker.js";
import { mutate, type Region, rng } from "../helpers/mutate.js";
import { walSnapshot } from "../helpers/sqlite-live.js";
import type { FuzzFixture, FuzzKind, PhaseSummary } from "./fuzz-worker.js";
import { dbDir, generatedRoot } from "./generated.js";
import { buildHeader } from "./header-builder.js";
import { rpmReadBlobs } from "./rpm-oracle.js";

const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
const BUDGETS: Record<FuzzKind, number> = {
  header: 8000,
  bdb: 8000,
  ndb: 4000,
  sqlite: 5000,
  wal: 3000,
};
const WATCHDOG_MS = 15_000;

let work: string;
let root: string;
let workerFile: string;
const fixtures: FuzzFixture[] = [];
let realBlobs: Buffer[] = [];

function headerRegions(b: Buffer): Region[] {
  const il = b.readUInt32BE(0);
  const ds = 8 + 16 * il;
  const trailer = ds + b.readUInt32BE(16); // the region entry's offset
  return [
    { name: "intro", start: 0, end: 8 },
    { name: "index", start: 8, end: ds },
    { name: "region entry", start: 8, end: 24 },
    { name: "data start", start: ds, end: Math.min(b.length, ds + 256) },
    { name: "region trailer", start: trailer, end: trailer + 16 },
  ];
}

/** Index entries and data outside the immutable region (rpm's install-time additions). */
function dribbleRegions(b: Buffer): Region[] {
  const h = parseHeader(b, { magic: false });
  const ds = 8 + 16 * b.readUInt32BE(0);
  return [
    { name: "dribble index", start: 8 + 16 * h.regionEntries, end: ds },
    { name: "dribble data", start: ds + h.regionDataLength, end: b.length },
  ];
}

function bdbRegions(b: Buffer, le: boolean): Region[] {
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const pageSize = le ? b.readUInt32LE(20) : b.readUInt32BE(20);
  const regions: Region[] = [{ name: "meta page", start: 0, end: 512 }];
  for (let p = 1; p * pageSize < b.length && regions.length < 60; p++) {
    const at = p * pageSize;
    const entries = u16(at + 20);
    regions.push({
      name: `page ${p} header and item index`,
      start: at,
      end: at + 26 + 2 * Math.min(entries, 64),
    });
  }
  return regions;
}

/** The database header, each b-tree page's header, cell pointers and first cell, overflow page links. */
function sqliteRegions(b: Buffer): Region[] {
  const raw = b.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const regions: Region[] = [{ name: "database header", start: 0, end: 100 }];
  for (let p = 0; p * pageSize < b.length && regions.length < 80; p++) {
    const base = p * pageSize;
    const at = base + (p === 0 ? 100 : 0);
    const type = b[at]!;
    if (type === 0x05 || type === 0x0d) {
      const cells = b.readUInt16BE(at + 3);
      const name = `page ${p + 1} (${type === 5 ? "interior" : "leaf"})`;
      regions.push({ name: `${name} header and cell pointers`, start: at, end: at + 12 + 2 * cells });
      const first = base + b.readUInt16BE(at + (type === 5 ? 12 : 8));
      regions.push({ name: `${name} first cell`, start: first, end: first + 16 });
    } else regions.push({ name: `page ${p + 1} link`, start: base, end: base + 4 });
  }
  return regions;
}

/** The log header and the first frames' headers. */
function walRegions(w: Buffer): Region[] {
  const frame = 24 + w.readUInt32BE(8);
  const regions: Region[] = [{ name: "wal header", start: 0, end: 32 }];
  for (let off = 32; off + frame <= w.length && regions.length < 40; off += frame) {
    regions.push({ name: `frame at ${off} header`, start: off, end: off + 24 });
  }
  return regions;
}

function ndbRegions(b: Buffer): Region[] {
  const regions: Region[] = [
    { name: "header", start: 0, end: 32 },
    { name: "slots", start: 32, end: 32 + 16 * 40 },
  ];
  for (let o = 32; o < 4096 && regions.length < 12; o += 16) {
    const blk = b.readUInt32LE(o + 8);
    if (blk === 0) continue;
    const start = blk * 16;
    const end = start + b.readUInt32LE(o + 12) * 16;
    regions.push({ name: `blob at ${start} head`, start, end: start + 16 });
    regions.push({ name: `blob at ${start} tail`, start: end - 12, end });
    regions.push({ name: `blob at ${start} header intro`, start: start + 16, end: start + 16 + 256 });
  }
  return regions;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "rpm-fuzz-"));
  root = generatedRoot("x86_64");
  const sqlite = join(dbDir(root), "rpmdb.sqlite");
  const generated = sqliteHeaderBlobs(sqlite).map((r) => r.blob);
  const mariner = sqliteHeaderBlobs(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite")).map((r) => r.blob);
  realBlobs = [...generated, ...mariner];
  const synthetic = buildHeader([
    { tag: 1000, value: { type: "STRING", value: "x" } },
    { tag: 1030, value: { type: "INT16", values: [1, 2, 3] } },
    { tag: 5009, value: { type: "INT64", values: [1n] } },
    { tag: 1117, value: { type: "STRING_ARRAY", values: ["a", "b"] } },
  ]);
  for (const [name, blob] of [
    ["generated kernel-core", generated.reduce((a, b) => (b.length > a.length ? b : a))],
    ["generated gpg-pubkey", generated[generated.length - 1]!],
    ["mariner", mariner[3]!],
    ["synthetic", synthetic],
  ] as const) {
    fixtures.push({ kind: "header", name, data: blob, regions: headerRegions(blob) });
  }
  for (const [name, options] of [
    ["bdb LE 4 KiB", {}],
    ["bdb LE 512 ff1", { pageSize: 512, ffactor: 1 }],
    ["bdb BE 64 KiB", { bigEndian: true, pageSize: 65536 }],
  ] as const) {
    const dir = join(work, name.replaceAll(" ", "-"));
    sqliteToBdb(sqlite, dir, { ...options, indexes: false });
    const data = readFileSync(join(dir, "Packages"));
    fixtures.push({ kind: "bdb", name, data, regions: bdbRegions(data, !("bigEndian" in options)) });
  }
  const libuuid = readFileSync(join(DATA, "bdb-rhel8-libuuid/Packages"));
  fixtures.push({ kind: "bdb", name: "libuuid", data: libuuid, regions: bdbRegions(libuuid, true) });
  const sle = readFileSync(join(DATA, "ndb-sle15-bci/Packages.db"));
  fixtures.push({ kind: "ndb", name: "sle15", data: sle, regions: ndbRegions(sle) });
  // sqlite: the real mariner database, the generated one with 1 KiB pages (deep trees, long overflow
  // chains), and a log of committed changes over the latter
  const small = join(work, "small-pages.sqlite");
  const schema = "hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL";
  execFileSync("sqlite3", [
    small,
    `PRAGMA page_size=1024; ATTACH '${sqlite}' AS o; CREATE TABLE Packages (${schema}); INSERT INTO Packages SELECT * FROM o.Packages;`,
  ]);
  for (const [name, file] of [
    ["mariner", join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite")],
    ["generated 1 KiB pages", small],
  ] as const) {
    const data = readFileSync(file);
    fixtures.push({ kind: "sqlite", name, data, regions: sqliteRegions(data) });
  }
  const snap = mkdtempSync(join(work, "wal-"));
  const live = join(snap, "live.sqlite");
  copyFileSync(small, live);
  await walSnapshot(
    live,
    "PRAGMA journal_mode=WAL; DELETE FROM Packages WHERE hnum % 3 = 0; " +
      "INSERT INTO Packages(hnum, blob) SELECT hnum + 100, blob FROM Packages WHERE hnum < 10;",
    snap,
  );
  const wal = readFileSync(join(snap, "rpmdb.sqlite-wal"));
  const base = readFileSync(join(snap, "rpmdb.sqlite"));
  fixtures.push({ kind: "wal", name: "committed changes", data: wal, base, regions: walRegions(wal) });

  workerFile = join(work, "fuzz-worker.mjs");
  await bundleWorker(new URL("./fuzz-worker.ts", import.meta.url), workerFile, true);
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

it("header, Berkeley DB, NDB and sqlite readers: typed errors only, no hang", async () => {
  const summaries = await runFuzzWorker<PhaseSummary>(
    workerFile,
    { fixtures, budgets: BUDGETS, seed0: 1_000_000 },
    { watchdogMs: WATCHDOG_MS, maxOldGenerationSizeMb: 512 },
  );
  for (const s of summaries) {
    console.log(
      `rpm fuzz ${s.kind}: ${s.iterations} iterations, outcomes ${JSON.stringify(s.outcomes)}, ` +
        `slowest ${s.slowest.ms.toFixed(1)} ms (${s.slowest.description})`,
    );
  }
  expect(summaries.map((s) => s.kind)).toEqual(["header", "bdb", "ndb", "sqlite", "wal"]);
  for (const s of summaries) {
    expect(s.crashes).toEqual([]);
    if (s.kind === "wal") {
      // SQLite ignores a damaged log from the damage on: both kinds of reads happen
      expect(s.outcomes["log ignored"] ?? 0).toBeGreaterThan(0);
      expect(s.outcomes["log applied"] ?? 0).toBeGreaterThan(0);
      continue;
    }
    // The mutations reach the readers: some cases still read, many are rejected.
    expect(s.outcomes.RpmFormatError ?? 0, s.kind).toBeGreaterThan(s.iterations / 20);
    expect(s.outcomes.ok ?? 0, s.kind).toBeGreaterThan(0);
  }
}, 120_000);

it("on 3000 mutated real headers we accept exactly what rpm accepts", () => {
  const r = rng(424242);
  // Half aimed at the structure (intro, index, region), half at what rpm adds on install outside the
  // immutable region (dribbles), which no header digest covers.
  const mutated = Array.from({ length: 3000 }, (_, i) => {
    const blob = realBlobs[i % realBlobs.length]!;
    return mutate(blob, r, i % 2 === 0 ? headerRegions(blob) : dribbleRegions(blob)).data;
  }).filter((b) => {
    // An empty blob stops rpm's whole sqlite iteration (it reads as NULL); we reject it, and leave it out.
    if (b.length > 0) return true;
    expect(() => parseHeader(b, { magic: false })).toThrow(/truncated/);
    return false;
  });
  const accepts = (b: Buffer, checks: boolean) => {
    try {
      const h = parseHeader(b, { magic: false });
      if (checks) verifyHeaderDigest(h);
      return true;
    } catch {
      return false;
    }
  };
  // rpm as it reads databases (header digests and signatures checked), and structure alone (--nodigest
  // --nosignature) against the parser alone.
  for (const checks of [true, false]) {
    const rpm = rpmReadBlobs(mutated, "", checks).accepted;
    const disagree = mutated.flatMap((b, i) => (accepts(b, checks) === rpm.has(i + 1) ? [] : [i]));
    const mode = checks ? "with digests" : "structure only";
    console.log(
      `rpm agreement (${mode}): rpm accepts ${rpm.size} of ${mutated.length}, disagreements ${disagree.length}`,
    );
    expect(disagree).toEqual([]);
    expect(rpm.size).toBeGreaterThan(200);
    expect(rpm.size).toBeLessThan(mutated.length - 200);
  }
}, 120_000);
