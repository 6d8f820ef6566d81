// Runs the image-level rpmdb fuzz cases for fuzz.test.ts in a worker thread (bundled by the test with
// esbuild), so a hang can be cut off from outside. Each case writes a mutated copy of the database
// file into its blocks inside the image, then verifies the image; a heartbeat names every case.

import { closeSync, openSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { verifyImage } from "../../src/inspect/verify.js";
import { emptyPhaseSummary, recordCase } from "../helpers/fuzz-case.js";
import type { FuzzPhaseSummary, FuzzWorkerMessage } from "../helpers/fuzz-worker.js";
import { mutateMany, type Region, randInt, rng } from "../helpers/mutate.js";

export interface FuzzImage {
  name: string;
  /** A writable copy of the bare image. */
  disk: string;
  /** Where the database file's bytes lie in the image, in file order. */
  ranges: { offset: number; length: number }[];
  /** The file as it is. */
  data: Uint8Array;
  regions: Region[];
  budgetMs: number;
}

export interface FuzzSummary extends FuzzPhaseSummary {
  name: string;
}

type FuzzMessage = FuzzWorkerMessage<FuzzSummary>;

const { images, seed0 } = workerData as { images: FuzzImage[]; seed0: number };

/** Puts `data` (same length as the file, or shorter: the rest reads as zeros) into the file's blocks. */
function writeInto(disk: string, ranges: FuzzImage["ranges"], data: Buffer): void {
  const fd = openSync(disk, "r+");
  try {
    let at = 0;
    for (const r of ranges) {
      const chunk = Buffer.alloc(r.length);
      data.subarray(at, at + r.length).copy(chunk);
      writeSync(fd, chunk, 0, r.length, r.offset);
      at += r.length;
    }
  } finally {
    closeSync(fd);
  }
}

const expectations = { releaseString: "AlmaLinux release", arch: "x86_64" };
let seed = seed0;
for (const img of images) {
  const original = Buffer.from(img.data);
  const summary: FuzzSummary = { name: img.name, ...emptyPhaseSummary() };
  const end = Date.now() + img.budgetMs;
  while (Date.now() < end) {
    seed++;
    parentPort!.postMessage({ type: "case", label: `${img.name} seed ${seed}` } satisfies FuzzMessage);
    const r = rng(seed);
    const m = mutateMany(original, r, img.regions, randInt(r, 1, 4));
    writeInto(img.disk, img.ranges, m.data);
    await recordCase(summary, `${img.name} seed ${seed}: ${m.description}`, async () => {
      const verdict = await verifyImage(img.disk, expectations, { packagesOut: null });
      return `verdict, rpmdb ${verdict.checks.find((c) => c.name === "rpmdb")!.status}`;
    });
  }
  writeInto(img.disk, img.ranges, original);
  parentPort!.postMessage({ type: "summary", summary } satisfies FuzzMessage);
}
parentPort!.postMessage({ type: "done" } satisfies FuzzMessage);
