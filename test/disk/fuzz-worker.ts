// Runs fuzz cases for fuzz.test.ts in a worker thread, so that a hang can be cut off from outside.
// Bundled with esbuild by the test; receives the fixtures once, then one seed per message.
import { parentPort, workerData } from "node:worker_threads";
import { openContainer } from "../../src/disk/image.js";
import { partitionSource, readPartitionTable } from "../../src/disk/partitions.js";
import { BufferSource, type ByteSource } from "../../src/disk/source.js";
import { isCloudImagesError } from "../../src/errors.js";
import { mutateMany, type Region, type Rng, randInt, rng } from "../helpers/mutate.js";

export interface FuzzFixture {
  name: string;
  data: Uint8Array;
  regions: Region[];
}

export interface FuzzCase {
  id: number;
  fixture: number;
  seed: number;
}

export interface FuzzResult {
  id: number;
  ms: number;
  /** "ok", the CloudImagesError class names met (comma-separated), or "crash". */
  outcome: string;
  description: string;
  crash?: string;
  /** heapUsed + arrayBuffers after the case. */
  memory: number;
}

const fixtures = (workerData as { fixtures: FuzzFixture[] }).fixtures;

/** Runs one step; a CloudImagesError is an accepted outcome, anything else is recorded as a crash. */
async function step(errors: string[], crashes: string[], f: () => Promise<unknown>): Promise<boolean> {
  try {
    await f();
    return true;
  } catch (e) {
    if (isCloudImagesError(e)) errors.push(e.constructor.name);
    else crashes.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return false;
  }
}

async function exercise(
  data: Buffer,
  r: Rng,
  name: string,
): Promise<{ errors: string[]; crashes: string[] }> {
  const errors: string[] = [];
  const crashes: string[] = [];
  let disk: ByteSource | undefined;
  await step(errors, crashes, async () => {
    disk = (await openContainer(new BufferSource(data), name)).source;
  });
  if (!disk) return { errors, crashes };
  const d = disk;
  const reads: [number, number][] = [[0, Math.min(d.size, 4096)]];
  reads.push([Math.max(0, d.size - 5000), Math.min(d.size, 5000)]);
  for (let i = 0; i < 4; i++) {
    const offset = randInt(r, 0, Math.max(1, d.size));
    reads.push([offset, Math.min(d.size - offset, randInt(r, 1, 256 * 1024))]);
  }
  for (const [offset, length] of reads) await step(errors, crashes, () => d.read(offset, length));
  await step(errors, crashes, async () => {
    const table = await readPartitionTable(d);
    for (const p of table.partitions.slice(0, 8)) {
      const s = partitionSource(d, p);
      await s.read(0, Math.min(s.size, 4096));
    }
  });
  return { errors, crashes };
}

parentPort!.on("message", async (c: FuzzCase) => {
  const f = fixtures[c.fixture]!;
  const r = rng(c.seed);
  const m = mutateMany(Buffer.from(f.data), r, f.regions, randInt(r, 1, 4));
  const start = performance.now();
  const { errors, crashes } = await exercise(m.data, r, f.name);
  const ms = performance.now() - start;
  const mem = process.memoryUsage();
  const result: FuzzResult = {
    id: c.id,
    ms,
    outcome: crashes.length > 0 ? "crash" : errors.length > 0 ? [...new Set(errors)].join(",") : "ok",
    description: `${f.name} seed ${c.seed}: ${m.description}`,
    ...(crashes.length > 0 ? { crash: crashes[0] } : {}),
    memory: mem.heapUsed + mem.arrayBuffers,
  };
  parentPort!.postMessage(result);
});
