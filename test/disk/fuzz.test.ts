// Fuzzing: seeded mutations of qcow2, GPT and MBR fixtures (bit flips, truncation, overwrites aimed at
// headers, L1/L2 tables and partition tables). Every case must open and read to either data or a
// CloudImagesError: no other exception, no hang (a watchdog ends the worker), bounded memory.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundleWorker } from "../helpers/fuzz-worker.js";
import type { Region } from "../helpers/mutate.js";
import type { FuzzFixture, FuzzResult } from "./fuzz-worker.js";
import { mixedContent, rawToQcow2, run, runAllowFail, type TempDir, tempDir } from "./tools.js";

const CASES = 1500;
const CASE_TIMEOUT_MS = 10_000;
const MAX_MEMORY = 384 * 1024 * 1024;
const MiB = 1024 * 1024;

let tmp: TempDir;
let workerFile: string;
const fixtures: FuzzFixture[] = [];

/** Header, L1 table and every L2 table of a qcow2 file, found with the spec's offsets. */
function qcow2Regions(b: Buffer): Region[] {
  const clusterSize = 2 ** b.readUInt32BE(20);
  const l1 = Number(b.readBigUInt64BE(40));
  const l1Size = b.readUInt32BE(36);
  const regions: Region[] = [
    { name: "qcow2 header", start: 0, end: 112 },
    { name: "qcow2 header extensions", start: 72, end: Math.min(clusterSize, 1024) },
    { name: "L1 table", start: l1, end: l1 + 8 * l1Size },
  ];
  for (let i = 0; i < l1Size; i++) {
    const l2 = Number(b.readBigUInt64BE(l1 + 8 * i) & 0x00fffffffffffe00n);
    if (l2 !== 0) regions.push({ name: `L2 table ${i}`, start: l2, end: l2 + clusterSize });
  }
  return regions;
}

/** Where the guest's partition-table sectors are stored in a qcow2 file (uncompressed clusters only). */
function guestTableRegions(qcow2: string, diskSize: number): Region[] {
  const map = JSON.parse(run("qemu-img", ["map", "--output=json", "-f", "qcow2", qcow2])) as {
    start: number;
    length: number;
    offset?: number;
  }[];
  const regions: Region[] = [];
  for (const [name, start, end] of [
    ["guest primary GPT", 0, 34 * 512],
    ["guest backup GPT", diskSize - 33 * 512, diskSize],
  ] as const) {
    const m = map.find((e) => e.offset !== undefined && e.start <= start && start < e.start + e.length);
    if (m?.offset !== undefined) {
      const host = m.offset + (start - m.start);
      regions.push({ name, start: host, end: host + Math.min(end - start, m.start + m.length - start) });
    }
  }
  return regions;
}

const GPT_REGIONS = (size: number): Region[] => [
  { name: "protective MBR", start: 440, end: 512 },
  { name: "primary GPT header", start: 512, end: 512 + 92 },
  { name: "primary GPT entries", start: 1024, end: 1024 + 4 * 128 },
  { name: "backup GPT header", start: size - 512, end: size - 512 + 92 },
  { name: "backup GPT entries", start: size - 33 * 512, end: size - 33 * 512 + 4 * 128 },
];

beforeAll(async () => {
  tmp = tempDir("disk-fuzz");
  workerFile = tmp.path("fuzz-worker.mjs");
  await bundleWorker(new URL("./fuzz-worker.ts", import.meta.url), workerFile, false);

  // A 4 MiB GPT disk with three partitions over mixed content, raw and in several qcow2 flavours.
  const size = 4 * MiB;
  const raw = tmp.path("gpt.raw");
  writeFileSync(raw, mixedContent(9, size));
  run("sgdisk", ["-o", "-n", "1:0:+1M", "-t", "1:ef00", "-n", "2:0:+1M", "-n", "3:0:0", "-c", "3:root", raw]);
  fixtures.push({ name: "gpt.raw", data: readFileSync(raw), regions: GPT_REGIONS(size) });
  for (const [name, args] of [
    ["gpt-4k.qcow2", ["-o", "cluster_size=4096"]],
    ["gpt-zlib.qcow2", ["-c"]],
    ["gpt-zstd-4k.qcow2", ["-c", "-o", "compression_type=zstd,cluster_size=4096"]],
    ["gpt-v2-512.qcow2", ["-o", "compat=0.10,cluster_size=512"]],
  ] as const) {
    const path = tmp.path(name);
    rawToQcow2(raw, path, ...args);
    const data = readFileSync(path);
    fixtures.push({ name, data, regions: [...qcow2Regions(data), ...guestTableRegions(path, size)] });
  }

  // An MBR disk with logical partitions.
  const mbr = tmp.path("mbr.raw");
  run("truncate", ["-s", "4M", mbr]);
  const cmds = ["o", "n", "p", "1", "2048", "+1M", "n", "e", "2", "4096", "+1M", "n", "l", "4160", "+256K"];
  runAllowFail("busybox", ["fdisk", "-u", mbr], `${[...cmds, "n", "l", "4800", "+256K", "w"].join("\n")}\n`);
  fixtures.push({
    name: "mbr.raw",
    data: readFileSync(mbr),
    regions: [
      { name: "MBR entries", start: 446, end: 512 },
      { name: "first EBR", start: 4096 * 512 + 446, end: 4097 * 512 },
    ],
  });

  // The real fixtures.
  const real = (f: string) => readFileSync(fileURLToPath(new URL(`../data/disk/${f}`, import.meta.url)));
  const q = real("test.qcow2");
  fixtures.push({ name: "test.qcow2", data: q, regions: qcow2Regions(q) });
  const g = real("gpt-disk.img");
  fixtures.push({ name: "gpt-disk.img", data: g, regions: GPT_REGIONS(g.length) });
});
afterAll(() => tmp.remove());

it(`survives ${CASES} mutated images with typed errors only, no hang and bounded memory`, async () => {
  const worker = new Worker(workerFile, {
    workerData: { fixtures },
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  const results: FuzzResult[] = [];
  try {
    for (let id = 0; id < CASES; id++) {
      const c = { id, fixture: id % fixtures.length, seed: 10_000 + id };
      const result = await new Promise<FuzzResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `case ${id} (${fixtures[c.fixture]!.name} seed ${c.seed}) did not finish in ${CASE_TIMEOUT_MS} ms`,
            ),
          );
        }, CASE_TIMEOUT_MS);
        const done = (r: FuzzResult) => {
          clearTimeout(timer);
          worker.off("error", fail);
          resolve(r);
        };
        const fail = (e: Error) => {
          clearTimeout(timer);
          worker.off("message", done);
          reject(
            new Error(
              `case ${id} (${fixtures[c.fixture]!.name} seed ${c.seed}) killed the worker: ${e.message}`,
            ),
          );
        };
        worker.once("message", done);
        worker.once("error", fail);
        worker.postMessage(c);
      });
      results.push(result);
    }
  } finally {
    await worker.terminate();
  }
  const crashes = results.filter((r) => r.outcome === "crash");
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a));
  const outcomes = new Map<string, number>();
  for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  const peak = Math.max(...results.map((r) => r.memory));
  console.log(
    `disk fuzz: ${results.length} iterations over ${fixtures.length} fixtures; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
      `slowest ${slowest.ms.toFixed(1)} ms (${slowest.description}); peak heap+buffers ${(peak / MiB).toFixed(1)} MiB`,
  );
  expect(crashes.map((r) => `${r.description}\n${r.crash}`)).toEqual([]);
  expect(peak).toBeLessThan(MAX_MEMORY);
  // The mutations must reach the readers: both clean reads and rejections must occur.
  expect(outcomes.get("ok") ?? 0).toBeGreaterThan(CASES / 20);
  expect(results.filter((r) => r.outcome.includes("ImageFormatError")).length).toBeGreaterThan(CASES / 20);
}, 300_000);
