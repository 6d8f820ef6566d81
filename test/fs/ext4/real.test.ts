/**
 * The real third-party ext4 images against answers made with the Linux kernel and debugfs
 * (test/data/ext4/README.md). Every listed entry is checked field by field.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageFormatError } from "../../../src/errors.js";
import type { Ext4Filesystem } from "../../../src/fs/ext4/index.js";
import {
  DATA,
  namesSha256,
  openImage,
  run,
  sha256,
  sha256Of,
  tempDir,
  type WalkedEntry,
  walk,
} from "./util.js";

interface Expected {
  image_sha256: string;
  superblock: { block_size: number; volume_name: string | null; uuid: string; features: string[] };
  entries: ExpectedEntry[];
}
interface ExpectedEntry {
  path: string;
  type: string;
  size: number;
  mode: string;
  ino: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  sha256?: string | null;
  read_error?: string;
  target?: string;
  rdev?: [number, number];
  entries?: number;
  names_sha256?: string;
  ciphertext_name_hex?: string;
  encrypted?: boolean;
}

function loadExpected(name: string): Expected {
  return JSON.parse(readFileSync(join(DATA, name), "utf8")) as Expected;
}

/** Checks every expected entry against the walk; returns how many were checked. */
async function checkAll(fs: Ext4Filesystem, expected: Expected, chunk: number): Promise<number> {
  const tree = await walk(fs);
  let checked = 0;
  for (const e of expected.entries) {
    const got = tree.get(e.path) as WalkedEntry;
    expect(got, e.path).toBeDefined();
    const s = got.stat;
    expect(
      {
        path: e.path,
        type: s.type,
        size: s.size,
        mode: s.mode.toString(8).padStart(4, "0"),
        ino: s.ino,
        nlink: s.nlink,
        uid: s.uid,
        gid: s.gid,
        mtime: s.mtime,
        atime: s.atime,
      },
      e.path,
    ).toEqual({
      path: e.path,
      type: e.type,
      size: e.size,
      mode: e.mode,
      ino: e.ino,
      nlink: e.nlink,
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
      atime: e.atime,
    });
    expect(got.ino).toBe(e.ino);
    if (e.type === "file") {
      if (e.read_error) {
        await expect(fs.read(got.ino, 0, 100), e.path).rejects.toThrow(ImageFormatError);
        await expect(fs.read(got.ino, 0, 100)).rejects.toThrow(/encrypted/);
      } else {
        expect(await sha256Of(fs, got.ino, s.size, chunk), e.path).toBe(e.sha256);
      }
    }
    if (e.type === "symlink") expect(await fs.readLink(got.ino), e.path).toBe(e.target);
    if (e.rdev) expect(s.rdev, e.path).toEqual(e.rdev);
    if (e.type === "dir") {
      expect(got.names!.length, e.path).toBe(e.entries);
      expect(namesSha256(got.names!), e.path).toBe(e.names_sha256);
    }
    checked++;
  }
  // Nothing beyond the expected tree (capped directories are covered by their counts).
  const dirs = expected.entries.filter((e) => e.type === "dir");
  const total = dirs.reduce((n, d) => n + d.entries!, 0) + 1;
  expect(tree.size).toBe(total);
  return checked;
}

describe("test_disk1.bin (ext4-view-rs: 1 KiB blocks, metadata_csum, 64bit, htree, encrypt)", () => {
  const tmp = tempDir("ext4-real-");
  const image = join(tmp.dir, "test_disk1.bin");
  const expected = loadExpected("test_disk1.bin.expected.json");
  let fs: Ext4Filesystem;

  beforeAll(async () => {
    run("zstd", ["-d", "-q", "-f", join(DATA, "test_disk1.bin.zst"), "-o", image]);
    expect(sha256(readFileSync(image))).toBe(expected.image_sha256);
    fs = (await openImage(image)).fs;
  });
  afterAll(() => tmp.cleanup());

  it("reads the superblock", () => {
    expect(fs.blockSize).toBe(expected.superblock.block_size);
    expect(fs.label).toBe(expected.superblock.volume_name);
    expect(fs.uuid).toBe(expected.superblock.uuid);
    expect(fs.variant).toBe("ext4");
    // Same names, same order as dumpe2fs.
    expect(fs.features).toEqual(expected.superblock.features);
  });

  it("matches every listed entry (type, size, mode, ids, times, targets, contents, listings)", async () => {
    const n = await checkAll(fs, expected, 4096);
    expect(n).toBe(expected.entries.length);
  });

  it("holds N in every /medium_dir/N and /big_dir/N (all 11000 files)", async () => {
    let files = 0;
    for (const [dir, count] of [
      ["/medium_dir", 1000],
      ["/big_dir", 10000],
    ] as const) {
      const ino = expected.entries.find((e) => e.path === dir)!.ino;
      const entries = await fs.readDir(ino);
      expect(entries.map((e) => e.name).sort()).toEqual(
        Array.from({ length: count }, (_, i) => String(i)).sort(),
      );
      for (const e of entries) {
        expect((await fs.read(e.ino, 0, 64)).toString("latin1")).toBe(e.name);
        files++;
      }
    }
    expect(files).toBe(11000);
  });

  it("lists the encrypted directory under the kernel's no-key names, and refuses to read its file", async () => {
    const dir = expected.entries.find((e) => e.path === "/encrypted_dir")!;
    const file = expected.entries.find((e) => e.path.startsWith("/encrypted_dir/"))!;
    const entries = await fs.readDir(dir.ino);
    expect(entries).toEqual([{ name: file.path.split("/")[2], ino: file.ino }]);
    // The no-key name carries the on-disk ciphertext after an 8-byte hash.
    const raw = Buffer.from(entries[0]!.name, "base64url");
    expect(raw.subarray(8).toString("hex")).toBe(file.ciphertext_name_hex);
    await expect(fs.read(file.ino, 0, 10)).rejects.toThrow(/encrypted \(fscrypt\)/);
  });

  it("reads /holes at odd offsets and lengths (punched blocks as zeros)", async () => {
    const ino = expected.entries.find((e) => e.path === "/holes")!.ino;
    // Content rule from the answer file: 2048 zero, 1024 x a1, 1024 x a2, 2048 zero, 1024 x a3, 1024 x a4, 2048 zero.
    const want = Buffer.concat([
      Buffer.alloc(2048),
      Buffer.alloc(1024, 0xa1),
      Buffer.alloc(1024, 0xa2),
      Buffer.alloc(2048),
      Buffer.alloc(1024, 0xa3),
      Buffer.alloc(1024, 0xa4),
      Buffer.alloc(2048),
    ]);
    for (const [off, len] of [
      [0, 10240],
      [2047, 2],
      [3000, 5000],
      [10000, 1000],
      [1, 10238],
    ] as const) {
      expect((await fs.read(ino, off, len)).equals(want.subarray(off, off + len)), `${off}+${len}`).toBe(
        true,
      );
    }
  });
});

describe("hierarchy_64.ext4 (go-ext4: 64bit, 128-byte inodes, no journal)", () => {
  const expected = loadExpected("hierarchy_64.ext4.expected.json");

  it("matches every entry", async () => {
    const image = join(DATA, "hierarchy_64.ext4");
    expect(sha256(readFileSync(image))).toBe(expected.image_sha256);
    const { fs, source } = await openImage(image);
    expect(fs.label).toBe("");
    expect(fs.uuid).toBe(expected.superblock.uuid);
    expect(fs.features).toEqual(expected.superblock.features);
    expect(await checkAll(fs, expected, 1000)).toBe(17);
    await source.close();
  });
});
