/**
 * Seeded fuzzing of the FAT12/16/32 images: each case mutates the boot sector, the FAT, the root
 * directory or a directory cluster (located with the specification's offsets and mshowfat, not with
 * the reader), or truncates the image; then opens it and exercises it (test/helpers/fs-fuzz.ts). Each case must end, quickly, in success or a CloudImagesError.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ByteSource } from "../../../src/disk/source.js";
import { openFat } from "../../../src/fs/fat/index.js";
import { exerciseFilesystem, fuzzFor } from "../../helpers/fs-fuzz.js";
import { mutate, type Region, randInt, rng } from "../../helpers/mutate.js";
import { PatchedSource } from "../../helpers/patched-source.js";
import { type FatKind, fatImage, mtools } from "./images.js";

const SECONDS = Number(process.env.FAT_FUZZ_SECONDS ?? 8);
const CASE_LIMIT_MS = 5000;

interface Base {
  kind: FatKind;
  data: Buffer;
  regions: Region[];
}

/** Boot sector, FAT, root directory and the clusters of a few directories. */
function regions(path: string, data: Buffer): Region[] {
  const bps = data.readUInt16LE(11);
  const clusterSize = bps * data[13]!;
  const reserved = data.readUInt16LE(14) * bps;
  const fatBytes = (data.readUInt16LE(22) || data.readUInt32LE(36)) * bps;
  const rootBytes = data.readUInt16LE(17) * 32;
  const dataStart = reserved + data[16]! * fatBytes + Math.ceil(rootBytes / bps) * bps;
  const out: Region[] = [
    { name: "boot sector", start: 0, end: 512 },
    { name: "FAT", start: reserved, end: reserved + Math.min(fatBytes, 16384) },
  ];
  if (rootBytes > 0) out.push({ name: "root directory", start: dataStart - rootBytes, end: dataStart });
  const text = mtools("mshowfat", [
    "-i",
    path,
    "::/",
    "::/EFI",
    "::/many",
    "::/holes",
    "::/level0",
  ]).toString();
  for (const m of text.matchAll(/<(\d+)(?:-(\d+))?>/g)) {
    const first = Number(m[1]);
    const last = Number(m[2] ?? m[1]);
    out.push({
      name: `directory clusters ${first}-${last}`,
      start: dataStart + (first - 2) * clusterSize,
      end: dataStart + (last - 1) * clusterSize,
    });
  }
  return out;
}

async function exercise(source: ByteSource): Promise<void> {
  await exerciseFilesystem(await openFat(source), 5000);
}

describe("FAT fuzzing", () => {
  const bases: Base[] = [];
  beforeAll(() => {
    for (const kind of ["fat12", "fat16", "fat32"] as FatKind[]) {
      const { path } = fatImage(kind);
      const data = readFileSync(path);
      bases.push({ kind, data, regions: regions(path, data) });
    }
  });

  it("survives seeded metadata mutations", { timeout: (SECONDS + 120) * 1000 }, async () => {
    for (const b of bases) {
      expect(b.regions.length, b.kind).toBeGreaterThan(5);
      await exercise(new PatchedSource(b.data, 0, Buffer.alloc(0), b.data.length));
    }
    const r = rng(20261207);
    const { iterations, rejected, failures, slowest } = await fuzzFor(
      SECONDS,
      CASE_LIMIT_MS,
      (i) => {
        const base = bases[i % bases.length]!;
        const region = base.regions[randInt(r, 0, base.regions.length)]!;
        const m = mutate(base.data.subarray(region.start, region.end), r);
        // A mutation that shortens the region cuts the image there.
        const source =
          m.data.length < region.end - region.start
            ? new PatchedSource(base.data, 0, Buffer.alloc(0), region.start + m.data.length)
            : new PatchedSource(base.data, region.start, m.data, base.data.length);
        return { source, what: `#${i} ${base.kind} ${region.name}: ${m.description}` };
      },
      exercise,
    );
    console.log(
      `FAT fuzz: ${iterations} iterations, ${rejected} rejected with a typed error, slowest ${slowest.ms.toFixed(0)} ms (${slowest.what})`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(iterations).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(0);
  });
});
