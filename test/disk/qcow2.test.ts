// qcow2 images made by qemu-img and qemu-io, read back and compared with qemu-img convert -O raw.
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImage } from "../../src/disk/image.js";
import { openQcow2 } from "../../src/disk/qcow2.js";
import { FileSource } from "../../src/disk/source.js";
import { randInt, rng } from "../helpers/mutate.js";
import { mixedContent, rawToQcow2, readWhole, run, type TempDir, tempDir } from "./tools.js";

const MiB = 1024 * 1024;
/** Not a multiple of any cluster size above 512: the last cluster is partial. */
const SIZE = 6 * MiB + 1536;

let tmp: TempDir;
let input: Buffer;

beforeAll(() => {
  tmp = tempDir("disk-qcow2");
  input = mixedContent(1, SIZE);
  writeFileSync(tmp.path("input.raw"), input);
});
afterAll(() => tmp.remove());

/** The oracle: qemu-img's own conversion of the image back to raw. */
function qemuRaw(qcow2: string): Buffer {
  const out = `${qcow2}.oracle.raw`;
  run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", qcow2, out]);
  return readFileSync(out);
}

function info(qcow2: string): Record<string, unknown> {
  return JSON.parse(run("qemu-img", ["info", "--output=json", qcow2]));
}

function map(
  qcow2: string,
): { start: number; length: number; present: boolean; zero: boolean; data: boolean }[] {
  return JSON.parse(run("qemu-img", ["map", "--output=json", "-f", "qcow2", qcow2]));
}

/** Random ranges that often cross cluster boundaries, compared with the oracle. */
async function expectRandomRanges(
  source: { size: number; read(o: number, l: number): Promise<Buffer> },
  oracle: Buffer,
  clusterSize: number,
  seed: number,
): Promise<void> {
  const r = rng(seed);
  // Each read of a 2 MiB cluster may decompress it again (the cache holds two): fewer, shorter reads there.
  const count = clusterSize >= 1024 * 1024 ? 40 : 150;
  const reach = Math.min(clusterSize, 128 * 1024);
  for (let i = 0; i < count; i++) {
    const boundary = randInt(r, 1, Math.ceil(source.size / clusterSize)) * clusterSize;
    const offset = Math.max(0, Math.min(source.size - 1, boundary - randInt(r, 0, reach + 600)));
    const length = Math.min(source.size - offset, randInt(r, 1, 2 * reach + clusterSize / 2 + 1000));
    const got = await source.read(offset, length);
    if (!got.equals(oracle.subarray(offset, offset + length))) {
      throw new Error(`bytes differ for the read of ${length} at ${offset}`);
    }
  }
}

const CONVERSIONS: { name: string; args: string[]; cluster: number; version: 2 | 3; compression: string }[] =
  [
    { name: "64 KiB clusters", args: [], cluster: 65536, version: 3, compression: "zlib" },
    {
      name: "512 B clusters",
      args: ["-o", "cluster_size=512"],
      cluster: 512,
      version: 3,
      compression: "zlib",
    },
    {
      name: "4 KiB clusters",
      args: ["-o", "cluster_size=4096"],
      cluster: 4096,
      version: 3,
      compression: "zlib",
    },
    {
      name: "2 MiB clusters",
      args: ["-o", "cluster_size=2M"],
      cluster: 2 * MiB,
      version: 3,
      compression: "zlib",
    },
    { name: "zlib compressed", args: ["-c"], cluster: 65536, version: 3, compression: "zlib" },
    {
      name: "zlib compressed, 512 B clusters",
      args: ["-c", "-o", "cluster_size=512"],
      cluster: 512,
      version: 3,
      compression: "zlib",
    },
    {
      name: "zlib compressed, 4 KiB clusters",
      args: ["-c", "-o", "cluster_size=4096"],
      cluster: 4096,
      version: 3,
      compression: "zlib",
    },
    {
      name: "zlib compressed, 2 MiB clusters",
      args: ["-c", "-o", "cluster_size=2M"],
      cluster: 2 * MiB,
      version: 3,
      compression: "zlib",
    },
    {
      name: "zstd compressed",
      args: ["-c", "-o", "compression_type=zstd"],
      cluster: 65536,
      version: 3,
      compression: "zstd",
    },
    {
      name: "zstd compressed, 4 KiB clusters",
      args: ["-c", "-o", "compression_type=zstd,cluster_size=4096"],
      cluster: 4096,
      version: 3,
      compression: "zstd",
    },
    {
      name: "zstd compressed, 2 MiB clusters",
      args: ["-c", "-o", "compression_type=zstd,cluster_size=2M"],
      cluster: 2 * MiB,
      version: 3,
      compression: "zstd",
    },
    {
      name: "version 2 (compat=0.10)",
      args: ["-o", "compat=0.10"],
      cluster: 65536,
      version: 2,
      compression: "zlib",
    },
    {
      name: "version 2, compressed",
      args: ["-c", "-o", "compat=0.10,cluster_size=4096"],
      cluster: 4096,
      version: 2,
      compression: "zlib",
    },
  ];

describe("qemu-img convert -O qcow2", () => {
  for (const [i, c] of CONVERSIONS.entries()) {
    it(`reads ${c.name} exactly as qemu-img does`, async () => {
      const path = tmp.path(`conv${i}.qcow2`);
      rawToQcow2(tmp.path("input.raw"), path, ...c.args);
      const qi = info(path);
      const oracle = qemuRaw(path);
      expect(oracle.equals(input)).toBe(true); // qemu-img round-trips the input

      const img = await openImage(path);
      try {
        expect(img.format).toBe("qcow2");
        expect(img.virtualSize).toBe(qi["virtual-size"]);
        expect(img.qcow2?.clusterSize).toBe(qi["cluster-size"]);
        expect(img.qcow2?.clusterSize).toBe(c.cluster);
        expect(img.qcow2?.version).toBe(c.version);
        expect(img.qcow2?.compressionType).toBe(c.compression);
        expect((await readWhole(img.source)).equals(oracle)).toBe(true);
        expect((await readWhole(img.source, c.cluster)).equals(oracle)).toBe(true);
        await expectRandomRanges(img.source, oracle, c.cluster, i + 100);
        if (c.args.includes("-c")) {
          // Compressed clusters must really be there: qemu-img check counts them.
          const check = run("qemu-img", ["check", "--output=json", path]);
          expect(JSON.parse(check)["compressed-clusters"]).toBeGreaterThan(0);
        }
      } finally {
        await img.close();
      }
    });
  }

  it("reads the same through tiny caches and concurrent reads", async () => {
    const path = tmp.path("tiny-cache.qcow2");
    rawToQcow2(tmp.path("input.raw"), path, "-c", "-o", "cluster_size=4096");
    const oracle = qemuRaw(path);
    const file = await FileSource.open(path);
    try {
      const q = await openQcow2(file, { l2CacheBytes: 1, clusterCacheBytes: 1 });
      expect((await readWhole(q, 12_345)).equals(oracle)).toBe(true);
      const r = rng(7);
      const reads = Array.from({ length: 200 }, () => {
        const offset = randInt(r, 0, SIZE - 1);
        return { offset, length: Math.min(SIZE - offset, randInt(r, 1, 20_000)) };
      });
      const got = await Promise.all(reads.map((x) => q.read(x.offset, x.length)));
      got.forEach((g, k) => {
        const x = reads[k]!;
        expect(g.equals(oracle.subarray(x.offset, x.offset + x.length))).toBe(true);
      });
      expect(q.cachedBytes).toBeLessThanOrEqual(2 * 4096);
    } finally {
      await file.close();
    }
  });

  it("keeps its caches within their budgets", async () => {
    const path = tmp.path("budget.qcow2");
    rawToQcow2(tmp.path("input.raw"), path, "-c", "-o", "cluster_size=2M");
    const file = await FileSource.open(path);
    try {
      const q = await openQcow2(file);
      await readWhole(q, 4096);
      expect(q.cachedBytes).toBeLessThanOrEqual(6 * MiB + 2 * MiB);
    } finally {
      await file.close();
    }
  });
});

describe("files cut short", () => {
  it("reads a last data cluster cut off by the end of the file as zeros past the end, as qemu does", async () => {
    const path = tmp.path("cut.qcow2");
    rawToQcow2(tmp.path("input.raw"), path);
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 30_000));
    const oracle = qemuRaw(path);
    expect(oracle.equals(input)).toBe(false);
    const img = await openImage(path);
    try {
      expect((await readWhole(img.source)).equals(oracle)).toBe(true);
    } finally {
      await img.close();
    }
  });
});

describe("qemu-io: zero clusters and unallocated ranges", () => {
  it("reads v3 zero clusters (allocated and not) as zeros, and data written around them", async () => {
    const path = tmp.path("zero.qcow2");
    rawToQcow2(tmp.path("input.raw"), path);
    run("qemu-io", [
      "-f",
      "qcow2",
      "-c",
      "write -z 0 128k", // keeps the allocation, sets the zero flag
      "-c",
      "write -z -u 1M 192k", // may drop the allocation
      "-c",
      "write -z 2600k 4096", // not cluster-aligned
      "-c",
      "write -P 0xab 3M 70000",
      "-c",
      "discard 4M 128k",
      "-c",
      "write -z 5M 1M",
      path,
    ]);
    const m = map(path);
    // The zero flag really is used (present, reads as zero, no data), or this test proves nothing.
    expect(m.some((e) => e.present && e.zero && !e.data)).toBe(true);
    const oracle = qemuRaw(path);
    const img = await openImage(path);
    try {
      expect((await readWhole(img.source)).equals(oracle)).toBe(true);
      await expectRandomRanges(img.source, oracle, 65536, 3);
    } finally {
      await img.close();
    }
  });

  it("reads a sparse image: unallocated = zeros, writes spanning clusters and L2 tables", async () => {
    const path = tmp.path("sparse.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "5G"]);
    // 4 KiB clusters: one L2 table covers 2 MiB, so these writes span several L2 tables.
    run("qemu-io", [
      "-f",
      "qcow2",
      "-c",
      "write -P 0x11 0 512",
      "-c",
      "write -P 0x22 2093056 8192", // crosses the 2 MiB L2 boundary
      "-c",
      "write -P 0x33 4294967000 100000", // crosses 4 GiB
      "-c",
      "write -P 0x44 5368705024 4096", // the last cluster
      path,
    ]);
    const oracleFile = `${path}.oracle.raw`;
    run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", path, oracleFile]);
    const oracle = await FileSource.open(oracleFile);
    const img = await openImage(path);
    try {
      expect(img.virtualSize).toBe(5 * 1024 ** 3);
      const r = rng(11);
      const spots = [0, 2093056 - 100, 4294967000 - 5000, 5368705024 - 3000, 3 * 1024 ** 3];
      for (let i = 0; i < 60; i++) spots.push(randInt(r, 0, img.virtualSize - 300_000));
      for (const at of spots) {
        const length = Math.min(img.virtualSize - at, 200_000);
        expect((await img.source.read(at, length)).equals(await oracle.read(at, length))).toBe(true);
      }
      // Only the metadata and data it needed.
      expect(img.file.bytesRead).toBeLessThan(4 * MiB);
    } finally {
      await img.close();
      await oracle.close();
    }
  });

  it("reads v2 images written by qemu-io (zeros are written out)", async () => {
    const path = tmp.path("v2.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=512", path, "3M"]);
    run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 1000 300000", "-c", "write -z 2000 5000", path]);
    const oracle = qemuRaw(path);
    const img = await openImage(path);
    try {
      expect(img.qcow2?.version).toBe(2);
      expect((await readWhole(img.source)).equals(oracle)).toBe(true);
    } finally {
      await img.close();
    }
  });
});
