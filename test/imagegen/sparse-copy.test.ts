// The sparse copy: the bytes that went in come out at the offset, holes and zero data stay unallocated.
import { randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSeekMap, sparseCopy } from "../../imagegen/sparse-copy.js";
import { tempDir } from "./oracles.js";

const MiB = 1024 * 1024;
let tmp: string;

beforeAll(() => {
  tmp = tempDir("sparse");
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function sparseFile(path: string, size: number, writes: [number, Buffer][]): void {
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  for (const [off, data] of writes) writeSync(fd, data, 0, data.length, off);
  closeSync(fd);
}

function readRange(path: string, off: number, len: number): Buffer {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(len);
  readSync(fd, buf, 0, len, off);
  closeSync(fd);
  return buf;
}

describe("parseSeekMap", () => {
  it("turns xfs_io's seek table into data segments; the last one runs to EOF", () => {
    const out = "Whence\tResult\nDATA\t0\nHOLE\t131072\nDATA\t268435456\nHOLE\t268460032\nDATA\t536870912\n";
    expect(parseSeekMap(out, 600000000)).toEqual([
      { start: 0, end: 131072 },
      { start: 268435456, end: 268460032 },
      { start: 536870912, end: 600000000 },
    ]);
    expect(parseSeekMap("Whence\tResult\nHOLE\t0\n", 4096)).toEqual([]);
  });
});

describe("sparseCopy", () => {
  it("copies data to the offset and leaves holes and zero blocks unwritten", async () => {
    const src = join(tmp, "src");
    const dst = join(tmp, "dst");
    const a = randomBytes(100 * 1024);
    const b = randomBytes(3 * MiB);
    const c = randomBytes(10);
    const size = 64 * MiB;
    // 2 MiB of explicit zeros at 8 MiB: allocated in src, must not be in dst
    sparseFile(src, size, [
      [0, a],
      [8 * MiB, Buffer.alloc(2 * MiB)],
      [20 * MiB + 123, b],
      [size - 10, c],
    ]);
    sparseFile(dst, 100 * MiB, []);
    const base = 5 * MiB;
    await sparseCopy(src, dst, base);
    expect(readRange(dst, base, size).equals(readRange(src, 0, size))).toBe(true);
    expect(readRange(dst, 0, base).equals(Buffer.alloc(base))).toBe(true);
    expect(
      readRange(dst, base + size, 100 * MiB - base - size).equals(Buffer.alloc(100 * MiB - base - size)),
    ).toBe(true);
    expect(statSync(src).blocks * 512).toBeGreaterThanOrEqual(5 * MiB);
    expect(statSync(dst).blocks * 512).toBeLessThan(3.5 * MiB);
  });

  it("copies an empty file as nothing", async () => {
    const src = join(tmp, "empty");
    const dst = join(tmp, "dst2");
    sparseFile(src, 0, []);
    sparseFile(dst, MiB, []);
    expect(await sparseCopy(src, dst, 0)).toBe(0);
    expect(statSync(dst).blocks).toBe(0);
  });
});
