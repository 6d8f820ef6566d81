/**
 * Seeded fuzzing of small generated XFS images (v5 and v4): each iteration mutates one metadata block
 * (found by a magic-number scan: superblock, inodes, directory, extent btree, symlink and attribute
 * blocks) or
 * truncates the image, then opens it, walks every directory and reads every symlink and a few windows
 * of every file, reads the log's clean state, and lists every inode's extended attributes (xfs_db sets them in every attribute fork
 * form). Each iteration must finish, quickly, with success or a CloudImagesError. On v5 most
 * mutations get their checksum recomputed so they reach the structural checks behind it.
 *
 * Runs for XFS_FUZZ_SECONDS (default 20) seconds from seed XFS_FUZZ_SEED (default 1); prints the
 * iteration count and the slowest case.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ByteSource } from "../../../src/disk/source.js";
import { crc32cSkipping } from "../../../src/fs/crc32c.js";
import { openXfs } from "../../../src/fs/xfs/index.js";
import { exerciseFilesystem, fuzzFor } from "../../helpers/fs-fuzz.js";
import { type Mutation, mutate, type Region, randInt, rng } from "../../helpers/mutate.js";
import { PatchedSource } from "../../helpers/patched-source.js";
import { dir, makeXfsImage, seededBytes, type TreeNode, xfsDbListings } from "./mkfs.js";

const SECONDS = Number(process.env.XFS_FUZZ_SECONDS ?? 20);
const FIRST_SEED = Number(process.env.XFS_FUZZ_SEED ?? 1);
const ITERATION_LIMIT_MS = 5000;
const MiB = 1024 * 1024;

function fuzzTree(): TreeNode {
  const many = (n: number, name: (i: number) => string) =>
    new Map<string, TreeNode>(
      Array.from({ length: n }, (_, i) => [name(i), { kind: "file", content: Buffer.alloc(0) } as TreeNode]),
    );
  return dir({
    sf: dir(many(3, (i) => `s${i}`)),
    block: dir(many(30, (i) => `b${i}`)),
    leaf: dir(many(200, (i) => `leaf-${i}`)),
    node: dir(many(700, (i) => `node-${i}`)),
    btree: dir(many(2500, (i) => `${"t".repeat(200)}${i}`)),
    files: dir({
      small: { kind: "file", content: seededBytes(1, 300) },
      mid: { kind: "file", content: seededBytes(2, 70000) },
      big: { kind: "file", content: seededBytes(3, 600000) },
    }),
    links: dir({
      a: { kind: "symlink", target: "../files/small" },
      b: { kind: "symlink", target: "a".repeat(250) },
    }),
    dev: dir({ c: { kind: "chardev", major: 1, minor: 3 }, p: { kind: "fifo" } }),
    attrs: dir(new Map(ATTR_FILES.map(([name]) => [name, { kind: "file", content: Buffer.from(name) }]))),
  });
}

/** Files under /attrs and the attributes xfs_db sets on them: short form, leaf, node, remote values. */
const ATTR_FILES: readonly (readonly [string, readonly string[]])[] = [
  ["sf", ["-s -v 27 selinux", "-u -v 3 a", "-r -v 5 b"]],
  ["leaf", Array.from({ length: 12 }, (_, i) => `-u -v 60 leaf${i}`)],
  ["node", Array.from({ length: 150 }, (_, i) => `-u -v 40 node${i}`)],
  ["remote", ["-u -v 1 first", "-u -v 3000 r3k", "-s -v 900 r900"]],
];

/** The image with ATTR_FILES' attributes set by xfsprogs' own attribute code. */
function withAttributes(data: Buffer): Buffer {
  const tmp = mkdtempSync(join(tmpdir(), "xfs-fuzz-attrs-"));
  try {
    const path = join(tmp, "fs.img");
    writeFileSync(path, data);
    const inos = xfsDbListings(path, ["/attrs"]).get("/attrs")!;
    const cmds = ATTR_FILES.flatMap(([name, sets]) => [
      "-c",
      `inode ${inos.get(name)}`,
      ...sets.flatMap((a) => ["-c", `attr_set ${a}`]),
    ]);
    execFileSync("xfs_db", ["-x", ...cmds, path], { stdio: "pipe" });
    return readFileSync(path);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface FuzzImage {
  name: string;
  data: Buffer;
  v5: boolean;
  regions: (Region & { crcAt?: number })[];
}

/** Metadata blocks found by their magic numbers, independently of the reader. */
function scanRegions(data: Buffer): FuzzImage["regions"] {
  const blockSize = data.readUInt32BE(4);
  const inodeSize = data.readUInt16BE(104);
  const sectSize = data.readUInt16BE(102);
  const dirBlockSize = blockSize << data[192]!;
  const v5 = (data.readUInt16BE(100) & 0xf) === 5;
  const regions: FuzzImage["regions"] = [{ name: "superblock", start: 0, end: sectSize, crcAt: 224 }];
  for (let off = 0; off + 4 <= data.length; off += 512) {
    const magic = data.readUInt32BE(off);
    const ascii = data.toString("latin1", off, off + 4);
    if (
      off % inodeSize === 0 &&
      data.readUInt16BE(off) === 0x494e &&
      data[off + 4]! >= 1 &&
      data[off + 4]! <= 3
    ) {
      // Inodes sit at every inode-size multiple inside an inode chunk.
      for (let i = off; i < Math.min(off + 512, data.length); i += inodeSize) {
        if (data.readUInt16BE(i) === 0x494e)
          regions.push({ name: `inode@${i}`, start: i, end: i + inodeSize, crcAt: 100 });
      }
    } else if (["XD2B", "XD2D", "XDB3", "XDD3"].includes(ascii) && off % blockSize === 0) {
      regions.push({ name: `dir ${ascii}@${off}`, start: off, end: off + dirBlockSize, crcAt: 4 });
    } else if ((ascii === "BMAP" || ascii === "BMA3") && off % blockSize === 0) {
      regions.push({ name: `bmbt@${off}`, start: off, end: off + blockSize, crcAt: 64 });
    } else if (magic === 0x58534c4d && off % blockSize === 0) {
      regions.push({ name: `symlink@${off}`, start: off, end: off + blockSize, crcAt: 12 });
    } else if (magic === 0xfeedbabe) {
      regions.push({ name: `log record@${off}`, start: off, end: off + 1024 });
    } else if (magic === 0x5841524d && off % blockSize === 0) {
      regions.push({ name: `attr remote@${off}`, start: off, end: off + blockSize, crcAt: 12 });
    } else if (
      off % blockSize === 0 &&
      [0xfbee, 0x3bee, 0xfebe, 0x3ebe].includes(data.readUInt16BE(off + 8))
    ) {
      regions.push({ name: `attr leaf/node@${off}`, start: off, end: off + blockSize, crcAt: 12 });
    }
  }
  if (!v5) for (const r of regions) delete r.crcAt;
  return regions;
}

async function exercise(source: ByteSource): Promise<void> {
  await exerciseFilesystem(await openXfs(source));
}

function mutateImage(img: FuzzImage, seed: number): { source: ByteSource; description: string } {
  const r = rng(seed);
  if (r() < 0.05) {
    const size = randInt(r, 0, img.data.length);
    return {
      source: new PatchedSource(img.data, 0, Buffer.alloc(0), size),
      description: `truncate to ${size}`,
    };
  }
  const region = img.regions[randInt(r, 0, img.regions.length)]!;
  const original = img.data.subarray(region.start, region.end);
  let m: Mutation = mutate(Buffer.from(original), r);
  if (m.data.length < original.length) {
    // A truncation inside the block: cut the image there.
    const size = region.start + m.data.length;
    return {
      source: new PatchedSource(img.data, 0, Buffer.alloc(0), size),
      description: `truncate to ${size} (${region.name})`,
    };
  }
  if (r() < 0.3) {
    const again = mutate(m.data, r);
    if (again.data.length === m.data.length)
      m = { data: again.data, description: `${m.description}; ${again.description}` };
  }
  let fixed = "";
  if (region.crcAt !== undefined && r() < 0.75) {
    m.data.writeUInt32LE(crc32cSkipping(m.data, region.crcAt), region.crcAt);
    fixed = ", checksum recomputed";
  }
  return {
    source: new PatchedSource(img.data, region.start, m.data, img.data.length),
    description: `${region.name}: ${m.description}${fixed}`,
  };
}

describe("XFS fuzzing", () => {
  it(`survives seeded metadata mutations for ${SECONDS} s`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    const images: FuzzImage[] = [
      { name: "v5-1k", options: ["-b", "size=1024"] },
      { name: "v4-1k", options: ["-m", "crc=0", "-b", "size=1024", "-i", "size=256"] },
    ].map(({ name, options }) => {
      const path = makeXfsImage(`fuzz-${name}`, options, 24 * MiB, fuzzTree()).path;
      const data = withAttributes(readFileSync(path));
      return { name, data, v5: name.startsWith("v5"), regions: scanRegions(data) };
    });
    for (const img of images) {
      // The scan must find real metadata, or the fuzzing would only hit the superblock.
      expect(img.regions.filter((r) => r.name.startsWith("inode")).length).toBeGreaterThan(1000);
      expect(img.regions.some((r) => r.name.startsWith("dir"))).toBe(true);
      expect(img.regions.some((r) => r.name.startsWith("bmbt"))).toBe(true);
      expect(img.regions.filter((r) => r.name.startsWith("attr leaf/node")).length).toBeGreaterThan(2);
      expect(img.regions.some((r) => r.name.startsWith("log record"))).toBe(true);
      await exercise(new PatchedSource(img.data, 0, Buffer.alloc(0), img.data.length)); // unmutated: succeeds
    }

    const { iterations, rejected, failures, slowest } = await fuzzFor(
      SECONDS,
      ITERATION_LIMIT_MS,
      (i) => {
        const seed = FIRST_SEED + i;
        const img = images[seed % images.length]!;
        const { source, description } = mutateImage(img, seed);
        return { source, what: `${img.name} seed ${seed}: ${description}` };
      },
      exercise,
    );
    console.log(
      `XFS fuzz: ${iterations} iterations in ${SECONDS} s, ${rejected} rejected with a typed error, slowest ${slowest.ms.toFixed(1)} ms (${slowest.what})`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(iterations).toBeGreaterThan(50);
  });
});
