/**
 * Fuzzing verification end to end: the rpm database file inside a small bare ext4 image (sqlite for
 * AlmaLinux 9, Berkeley DB for 8) is mutated in place (bit flips, extreme values, random bytes, a tail
 * of zeros) and the image verified. Every case must end in a verdict or a CloudImagesError, never
 * another exception, never a hang (a watchdog stops the worker).
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.js";
import { bundleWorker, runFuzzWorker } from "../helpers/fuzz-worker.js";
import type { Region } from "../helpers/mutate.js";
import type { FuzzImage, FuzzSummary } from "./fuzz-worker.js";
import { copyRaw, ext4FileBlocks, image, removeDir, tempDir } from "./images.js";

const WATCHDOG_MS = 20_000;
const BUDGET_MS = { sqlite: 15_000, bdb: 10_000 };

let tmp: string;
let workerFile: string;
let workerDir: string;
const images: FuzzImage[] = [];

/** SQLite: the file header, each b-tree page's header and cell pointers, and anywhere. */
function sqliteRegions(data: Buffer): Region[] {
  const pageSize = data.readUInt16BE(16) === 1 ? 65536 : data.readUInt16BE(16);
  const regions: Region[] = [{ name: "file header", start: 0, end: 100 }];
  for (let p = 0; p * pageSize < data.length && regions.length < 40; p++) {
    const at = p === 0 ? 100 : p * pageSize;
    regions.push({ name: `page ${p + 1} header`, start: at, end: at + 12 + 2 * 16 });
  }
  return regions;
}

/** Berkeley DB hash: the meta page and each page's header and item index. */
function bdbRegions(data: Buffer): Region[] {
  const pageSize = data.readUInt32LE(20);
  const regions: Region[] = [{ name: "meta page", start: 0, end: 512 }];
  for (let p = 1; p * pageSize < data.length && regions.length < 40; p++) {
    regions.push({ name: `page ${p} header`, start: p * pageSize, end: p * pageSize + 26 + 2 * 32 });
  }
  return regions;
}

beforeAll(async () => {
  tmp = tempDir("fuzz");
  const [sqlite, bdb] = await Promise.all([image("bare"), image("bareBdb")]);
  for (const [name, img, file, regions, budgetMs] of [
    ["sqlite", sqlite, "/var/lib/rpm/rpmdb.sqlite", sqliteRegions, BUDGET_MS.sqlite],
    ["bdb", bdb, "/var/lib/rpm/Packages", bdbRegions, BUDGET_MS.bdb],
  ] as const) {
    const disk = copyRaw(img, tmp, `${name}.raw`);
    const data = readFileSync(join(img.rpmdbDir, file.split("/").pop()!));
    const ranges = ext4FileBlocks(disk, file);
    expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(data.length);
    images.push({ name, disk, ranges, data, regions: regions(data), budgetMs });
  }
  mkdirSync(join(REPO_ROOT, ".cache"), { recursive: true });
  // inside the repository, so the bundle's external packages (fzstd) resolve
  workerDir = mkdtempSync(join(REPO_ROOT, ".cache", "inspect-fuzz-"));
  workerFile = join(workerDir, "fuzz-worker.mjs");
  await bundleWorker(new URL("./fuzz-worker.ts", import.meta.url), workerFile, true);
}, 600_000);

afterAll(() => {
  removeDir(tmp);
  removeDir(workerDir);
});

it("mutated rpm databases inside an image: a verdict or a typed error, no hang", async () => {
  // the database file's blocks hold exactly the file (checked above), so the mutations land in it
  const summaries = await runFuzzWorker<FuzzSummary>(
    workerFile,
    { images, seed0: 7_000_000 },
    { watchdogMs: WATCHDOG_MS, maxOldGenerationSizeMb: 1024 },
  );
  for (const s of summaries) {
    console.log(
      `verify fuzz ${s.name}: ${s.iterations} iterations, outcomes ${JSON.stringify(s.outcomes)}, ` +
        `slowest ${s.slowest.ms.toFixed(1)} ms (${s.slowest.description})`,
    );
  }
  expect(summaries.map((s) => s.name)).toEqual(["sqlite", "bdb"]);
  for (const s of summaries) {
    expect(s.crashes).toEqual([]);
    expect(s.iterations).toBeGreaterThan(20);
    // the mutations reach the reader: some databases still read, some do not
    expect(s.outcomes["verdict, rpmdb fail"] ?? 0, s.name).toBeGreaterThan(0);
    expect(s.outcomes["verdict, rpmdb pass"] ?? 0, s.name).toBeGreaterThan(0);
  }
}, 120_000);
