/**
 * Files shaped by the kernel through a loop mount (see mounted-image.ts), read back without mounting and
 * compared with what the mounted kernel read and with the bytes that were written.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileSource } from "../../../src/disk/source.js";
import { openXfs, type XfsFilesystem } from "../../../src/fs/xfs/index.js";
import { sha256Of, type WalkedEntry, walk } from "./helpers.js";
import { seededBytes } from "./mkfs.js";
import {
  buildMountedImage,
  cachedMountedImage,
  FRAGMENTS,
  LONG_TARGET,
  type MountedImage,
  mountUnavailable,
  SPARSE_PROBES,
} from "./mounted-image.js";

const GiB = 1024 ** 3;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let image: MountedImage | undefined;
let unavailable: string | undefined;
let source: FileSource | undefined;
let fs: XfsFilesystem;
let walked: Map<string, WalkedEntry>;

beforeAll(async () => {
  image = cachedMountedImage();
  if (!image) {
    unavailable = mountUnavailable();
    if (!unavailable) {
      try {
        image = buildMountedImage();
      } catch (e) {
        unavailable = `loop mount failed: ${(e as Error).message.split("\n")[0]}`;
      }
    }
  }
  if (!image) {
    console.warn(`SKIPPED mounted-kernel XFS tests: ${unavailable}`);
    return;
  }
  source = await FileSource.open(image.path);
  fs = await openXfs(source);
  walked = await walk(fs);
});
afterAll(() => source?.close());

function bmap(ino: number): { offset: number; block: number; count: number; unwritten: boolean }[] {
  const text = execFileSync("xfs_db", ["-r", "-c", `inode ${ino}`, "-c", "bmap", image!.path], {
    encoding: "utf8",
  });
  return [...text.matchAll(/data offset (\d+) startblock (\d+) \S+ count (\d+) flag (\d)/g)].map((m) => ({
    offset: Number(m[1]),
    block: Number(m[2]),
    count: Number(m[3]),
    unwritten: m[4] === "1",
  }));
}

describe("files shaped by a mounted kernel", () => {
  it("has the shapes the tests rely on (checked with xfs_db)", (ctx) => {
    if (!image) return ctx.skip();
    const ino = (p: string) => walked.get(p)!.ino;
    const level = execFileSync(
      "xfs_db",
      ["-r", "-c", `inode ${ino("/fragmented")}`, "-c", "p core.format u3.bmbt.level", image.path],
      { encoding: "utf8" },
    );
    expect(level).toMatch(/core\.format = 3 \(btree\)/);
    expect(Number(/u3\.bmbt\.level = (\d+)/.exec(level)![1])).toBeGreaterThanOrEqual(2);
    expect(bmap(ino("/prealloc")).some((e) => e.unwritten)).toBe(true);
    expect(bmap(ino("/longlink"))).toEqual([expect.objectContaining({ offset: 0, count: 2 })]);
    // The directory's data section (below 32 GiB) has unmapped blocks below its end.
    const data = bmap(ino("/holey")).filter((e) => e.offset * 1024 < 32 * GiB);
    const mapped = data.reduce((n, e) => n + e.count, 0);
    const last = Math.max(...data.map((e) => e.offset + e.count));
    expect(mapped).toBeLessThan(last);
  });

  it("matches the kernel's view of every path", async (ctx) => {
    if (!image) return ctx.skip();
    const diffs: string[] = [];
    for (const [path, k] of Object.entries(image.kernel)) {
      const got = walked.get(path);
      if (!got) {
        diffs.push(`${path}: missing`);
        continue;
      }
      const s = got.stat;
      const check = (field: string, want: unknown, have: unknown) => {
        if (JSON.stringify(want) !== JSON.stringify(have)) {
          diffs.push(`${path}: ${field} expected ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
        }
      };
      check("ino", k.ino, s.ino);
      check("size", k.size, s.size);
      check("nlink", k.nlink, s.nlink);
      check("mode", k.mode.toString(8), s.mode.toString(8));
      check("mtime", k.mtime, s.mtime);
      check("atime", k.atime, s.atime);
      if (k.names) check("names", [...k.names].sort(), [...(got.names ?? [])].sort());
      if (k.target !== undefined) check("target", k.target, await fs.readLink(got.ino));
      if (k.sha256) check("sha256", k.sha256, await sha256Of(fs, got.ino, s.size));
      if (k.probes) {
        const mine = [];
        const into = [];
        for (const [off, len] of SPARSE_PROBES) {
          mine.push(sha(await fs.read(got.ino, off, len)));
          // readInto must write holes as zeros into a buffer that holds anything
          const buf = Buffer.alloc(len, 0xa5);
          into.push(sha(buf.subarray(0, await fs.readInto(got.ino, off, len, buf, 0))));
        }
        check("probes", k.probes, mine);
        check("probes (readInto)", k.probes, into);
      }
    }
    expect(diffs).toEqual([]);
    expect(walked.size).toBe(Object.keys(image.kernel).length);
  });

  it("reads the fragmented file as the bytes that were written", async (ctx) => {
    if (!image) return ctx.skip();
    const ino = walked.get("/fragmented")!.ino;
    const want = Buffer.alloc((FRAGMENTS - 1) * 2048 + 1024);
    for (let i = 0; i < FRAGMENTS; i++) seededBytes(i + 1, 1024).copy(want, i * 2048);
    expect((await fs.read(ino, 0, want.length)).equals(want)).toBe(true);
    // Unaligned reads landing in different btree leaves.
    for (const [off, len] of [
      [1000, 3000],
      [2047, 2],
      [3_000_000, 123_457],
      [want.length - 5000, 10_000],
    ] as const) {
      expect((await fs.read(ino, off, len)).equals(want.subarray(off, off + len))).toBe(true);
    }
  });

  it("reads the 6 GiB sparse file's data on both sides of 4 GiB", async (ctx) => {
    if (!image) return ctx.skip();
    const ino = walked.get("/sparse6g")!.ino;
    expect((await fs.read(ino, 0, 1500)).equals(seededBytes(7, 1500))).toBe(true);
    expect((await fs.read(ino, 4 * GiB - 100, 200)).equals(seededBytes(8, 200))).toBe(true);
    expect((await fs.read(ino, 5 * GiB + 3, 10000)).equals(seededBytes(9, 10000))).toBe(true);
    expect((await fs.read(ino, 3 * GiB, 1 << 20)).equals(Buffer.alloc(1 << 20))).toBe(true);
  });

  it("reads preallocated ranges as zeros and the long symlink in full", async (ctx) => {
    if (!image) return ctx.skip();
    const pre = walked.get("/prealloc")!.ino;
    const want = Buffer.alloc(65536 + 1048576);
    want.fill(0x61, 0, 65536);
    want.fill(0x62, 524288, 524288 + 4096);
    expect((await fs.read(pre, 0, want.length + 100000)).equals(want)).toBe(true);
    expect(await fs.readLink(walked.get("/longlink")!.ino)).toBe(LONG_TARGET);
    expect(walked.get("/hardlink")!.ino).toBe(walked.get("/punched")!.ino);
  });
});
