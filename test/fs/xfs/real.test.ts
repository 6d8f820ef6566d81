/**
 * The real XFS fixtures (xfuse's v5 and v4 images) against their independently made answer files:
 * every listed path is checked on every field, every directory's complete name list by hash.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileSource } from "../../../src/disk/source.js";
import { isXfs, openXfs, type XfsFilesystem } from "../../../src/fs/xfs/index.js";
import {
  type Expected,
  loadExpected,
  namesSha256,
  realFixture,
  sha256Of,
  type WalkedEntry,
  walk,
} from "./helpers.js";

const TIB = 1024 ** 4;

/** Field-by-field differences between an answer entry and what the reader found. */
async function diffEntry(
  fs: XfsFilesystem,
  exp: Expected["entries"][number],
  got: WalkedEntry | undefined,
): Promise<string[]> {
  if (!got) return [`${exp.path}: not found by walking readDir from the root`];
  const s = got.stat;
  const diffs: string[] = [];
  const check = (field: string, want: unknown, have: unknown) => {
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      diffs.push(`${exp.path}: ${field} expected ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
    }
  };
  check("type", exp.type, s.type);
  check("size", exp.size, s.size);
  check("mode", exp.mode, s.mode.toString(8).padStart(4, "0"));
  check("ino", exp.ino, s.ino);
  check("ino (dir entry)", exp.ino, got.ino);
  check("nlink", exp.nlink, s.nlink);
  check("uid", exp.uid, s.uid);
  check("gid", exp.gid, s.gid);
  check("mtime", exp.mtime, s.mtime);
  check("atime", exp.atime, s.atime);
  if (exp.rdev) check("rdev", exp.rdev, s.rdev);
  if (exp.target !== undefined) check("target", exp.target, await fs.readLink(got.ino));
  if (exp.entries !== undefined) {
    check("entries", exp.entries, got.names?.length);
    check("names_sha256", exp.names_sha256, namesSha256(got.names ?? []));
  }
  if (exp.type === "file" && exp.sha256) check("sha256", exp.sha256, await sha256Of(fs, got.ino, s.size));
  return diffs;
}

for (const [name, totalPaths] of [
  ["xfs4096.img", 749],
  // 19319 paths including the root (fixtures README); /btree2.2 and /btree3 are capped in the answer file.
  ["xfsv4.img", 19319],
] as const) {
  describe(`real fixture ${name}`, () => {
    const expected = loadExpected(name);
    let source: FileSource;
    let fs: XfsFilesystem;
    let walked: Map<string, WalkedEntry>;

    beforeAll(async () => {
      source = await FileSource.open(await realFixture(name, expected));
      fs = await openXfs(source);
      walked = await walk(fs);
    });
    afterAll(() => source?.close());

    it("recognises and opens the filesystem", async () => {
      expect(isXfs(await source.read(0, 512))).toBe(true);
      expect(fs.type).toBe("xfs");
      expect(fs.blockSize).toBe(expected.superblock.blocksize);
      expect(fs.rootIno).toBe(expected.superblock.rootino);
      expect(fs.uuid).toBe(expected.superblock.uuid);
      expect(fs.superblock.dirBlockSize).toBe(expected.superblock.dirblksize);
    });

    it("finds every path by walking from the root", () => {
      expect(walked.size).toBe(totalPaths);
      const missing = expected.entries.filter((e) => !walked.has(e.path)).map((e) => e.path);
      expect(missing).toEqual([]);
    });

    it("matches every answer entry on every field, including file contents", async () => {
      const diffs: string[] = [];
      for (const exp of expected.entries) diffs.push(...(await diffEntry(fs, exp, walked.get(exp.path))));
      expect(diffs).toEqual([]);
      const hashed = expected.entries.filter((e) => e.type === "file" && e.sha256).length;
      expect(hashed).toBeGreaterThan(0);
    });

    it("reads holes and the region past end of file as expected", async () => {
      const holes = expected.entries.filter((e) => e.all_hole);
      for (const h of holes) {
        const got = walked.get(h.path)!;
        expect(got.stat.size).toBe(h.size);
        for (const at of [0, 4096, h.size / 2 + 12345, h.size - 65536]) {
          const buf = await fs.read(got.ino, at, 65536);
          expect(buf.length).toBe(65536);
          expect(buf.equals(Buffer.alloc(65536))).toBe(true);
        }
        expect((await fs.read(got.ino, h.size - 10, 100)).length).toBe(10);
        expect((await fs.read(got.ino, h.size + 10, 100)).length).toBe(0);
      }
      if (name === "xfs4096.img") expect(holes.map((h) => h.size)).toEqual([TIB]);
    });

    it("readInto writes every byte of its range into a dirty buffer (data as read, holes as zeros)", async () => {
      const dirty = (n: number) => Buffer.alloc(n + 7, 0xa5);
      for (const e of expected.entries.filter((x) => x.type === "file" && x.sha256 && x.size <= 1 << 20)) {
        const got = walked.get(e.path)!;
        const buf = dirty(e.size);
        expect(await fs.readInto(got.ino, 0, e.size, buf, 3)).toBe(e.size);
        expect(
          createHash("sha256")
            .update(buf.subarray(3, 3 + e.size))
            .digest("hex"),
          e.path,
        ).toBe(e.sha256);
        expect(buf.subarray(3 + e.size).every((b) => b === 0xa5)).toBe(true);
      }
      for (const h of expected.entries.filter((x) => x.all_hole)) {
        const buf = dirty(65536);
        expect(await fs.readInto(walked.get(h.path)!.ino, h.size / 2 + 12345, 65536, buf, 0)).toBe(65536);
        expect(buf.subarray(0, 65536).equals(Buffer.alloc(65536))).toBe(true);
      }
    });
  });
}

describe("lookups touch only the blocks they need", () => {
  it("resolves /files/hello.txt and reads it with a handful of small reads", async () => {
    const expected = loadExpected("xfs4096.img");
    const source = await FileSource.open(await realFixture("xfs4096.img", expected));
    try {
      const fs = await openXfs(source);
      let ino = fs.rootIno;
      for (const part of ["files", "hello.txt"]) {
        const e = (await fs.readDir(ino)).find((d) => d.name === part);
        expect(e).toBeDefined();
        ino = e!.ino;
      }
      const hello = expected.entries.find((e) => e.path === "/files/hello.txt")!;
      const data = await fs.read(ino, 0, 100);
      expect(data.length).toBe(hello.size);
      expect(createHash("sha256").update(data).digest("hex")).toBe(hello.sha256);
      // superblock sector, root inode block, /files inode block + one 8 KiB directory block, data block
      expect(source.bytesRead).toBeLessThanOrEqual(512 + 4096 + 4096 + 8192 + 4096 + 4096);
    } finally {
      await source.close();
    }
  });
});
