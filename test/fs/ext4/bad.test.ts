/**
 * Corrupt, truncated and unsupported input: each case gives a typed error with a one-line message,
 * never a hang, a crash or a wrong answer. Offsets come from dumpe2fs/debugfs, not from the reader.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BufferSource } from "../../../src/disk/source.js";
import { ImageFormatError, UsageError } from "../../../src/errors.js";
import { isExt4, openExt4 } from "../../../src/fs/ext4/index.js";
import { smallImage } from "./small-image.js";
import { run, tempDir } from "./util.js";

let img: string;
let image: Buffer;
let bs: number;

beforeAll(async () => {
  img = await smallImage("extents");
  image = readFileSync(img);
  bs = Number(/Block size:\s+(\d+)/.exec(run("dumpe2fs", ["-h", img]))![1]);
});

const debugfs = (cmd: string) => run("debugfs", ["-R", cmd, img]);

/** Byte offset of a path's inode, from debugfs imap. */
function inodeOffset(path: string): number {
  const m = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(debugfs(`imap ${path}`))!;
  return Number(m[1]) * bs + Number.parseInt(m[2]!, 16);
}
const inodeNumber = (path: string) => Number(/Inode: (\d+)/.exec(debugfs(`stat ${path}`))![1]);

function patched(edits: [offset: number, write: (b: Buffer, at: number) => void][]): Buffer {
  const b = Buffer.from(image);
  for (const [at, write] of edits) write(b, at);
  return b;
}
const u16 = (v: number) => (b: Buffer, at: number) => b.writeUInt16LE(v, at);
const u32 = (v: number) => (b: Buffer, at: number) => b.writeUInt32LE(v >>> 0, at);

async function expectError(
  data: Buffer,
  op: (fs: Awaited<ReturnType<typeof openExt4>>) => Promise<unknown>,
  re: RegExp,
) {
  const attempt = async () => op(await openExt4(new BufferSource(data)));
  const err = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageFormatError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain("\n");
}

const SB = 1024;

describe("not an ext filesystem, or not one we read", () => {
  it("recognises the magic (isExt4) and refuses garbage and a zeroed superblock", async () => {
    expect(isExt4(image.subarray(0, 2048))).toBe(true);
    const garbage = Buffer.alloc(1 << 20);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    expect(isExt4(garbage.subarray(0, 2048))).toBe(false);
    await expectError(garbage, async () => {}, /magic 0xEF53/);
    const zeroed = patched([[SB, (b, at) => b.fill(0, at, at + 1024)]]);
    expect(isExt4(zeroed)).toBe(false);
    await expectError(zeroed, async () => {}, /no ext2\/3\/4 superblock/);
    expect(isExt4(Buffer.alloc(100))).toBe(false);
  });

  it("refuses truncated images", async () => {
    await expectError(image.subarray(0, image.length / 2), async () => {}, /truncated/);
    await expectError(image.subarray(0, 1500), async () => {}, /too small/);
  });

  it("names unknown and unsupported incompatible features", async () => {
    const incompat = image.readUInt32LE(SB + 0x60);
    await expectError(
      patched([[SB + 0x60, u32(incompat | 0x1)]]),
      async () => {},
      /unsupported incompatible feature\(s\): compression/,
    );
    await expectError(patched([[SB + 0x60, u32(incompat | 0x1000)]]), async () => {}, /dirdata/);
    await expectError(patched([[SB + 0x60, u32(incompat | 0x4000000)]]), async () => {}, /0x4000000/);
  });

  it("refuses an external journal device (made by mkfs -O journal_dev)", async () => {
    const tmp = tempDir("ext4-jdev-");
    try {
      const dev = join(tmp.dir, "journal.img");
      run("mkfs.ext4", ["-q", "-F", "-O", "journal_dev", "-b", "4096", dev, "8M"]);
      await expectError(readFileSync(dev), async () => {}, /external journal device/);
    } finally {
      tmp.cleanup();
    }
  });

  it("refuses impossible geometry", async () => {
    await expectError(patched([[SB + 0x18, u32(7)]]), async () => {}, /block size/);
    await expectError(patched([[SB + 0x20, u32(0)]]), async () => {}, /blocks per group/);
    await expectError(patched([[SB + 0x28, u32(0)]]), async () => {}, /inodes per group/);
    await expectError(patched([[SB + 0x58, u16(100)]]), async () => {}, /inode size/);
    await expectError(patched([[SB + 0xfe, u16(48)]]), async () => {}, /descriptor size/);
  });
});

describe("corrupt metadata", () => {
  it("refuses a group descriptor whose inode table lies outside the filesystem", async () => {
    const gd = Number(
      /Group descriptors at (\d+)/.exec(run("dumpe2fs", ["-h", img]) + run("dumpe2fs", [img]))![1],
    );
    await expectError(
      patched([[gd * bs + 0x8, u32(0xfffffff0)]]),
      async () => {},
      /inode table.*outside the filesystem/,
    );
  });

  it("refuses inodes with an unknown type or a bad i_extra_isize, and inode numbers out of range", async () => {
    const file = inodeOffset("/file");
    const ino = inodeNumber("/file");
    await expectError(patched([[file, u16(0o000644)]]), (fs) => fs.stat(ino), /unknown file type/);
    await expectError(patched([[file + 0x80, u16(250)]]), (fs) => fs.stat(ino), /i_extra_isize/);
    await expectError(image, (fs) => fs.stat(0), /out of range/);
    await expectError(image, (fs) => fs.stat(2 ** 40), /out of range/);
  });

  it("refuses bad extent headers, blocks past the end and too deep trees", async () => {
    const at = inodeOffset("/file") + 0x28;
    const ino = inodeNumber("/file");
    const read = (fs: Awaited<ReturnType<typeof openExt4>>) => fs.read(ino, 0, 100000);
    await expectError(patched([[at, u16(0x1234)]]), read, /bad extent header magic/);
    await expectError(patched([[at + 2, u16(5)]]), read, /do not fit/);
    await expectError(patched([[at + 6, u16(6)]]), read, /depth 6 exceeds 5/);
    await expectError(patched([[at + 12 + 8, u32(0xfffffff0)]]), read, /outside the filesystem/);
    await expectError(patched([[at + 12 + 4, u16(0)]]), read, /length 0/);
  });

  it("refuses an index node whose child is not one level below (a tree pointing back up)", async () => {
    const at = inodeOffset("/frag") + 0x28;
    expect(image.readUInt16LE(at + 6)).toBe(1); // debugfs built a one-level tree
    const leaf = Number(/\(ETB0\):(\d+)/.exec(debugfs("stat /frag"))![1]);
    const ino = inodeNumber("/frag");
    // The leaf claims to be an index node (depth 1) with one entry pointing at itself.
    const data = patched([
      [leaf * bs + 2, u16(1)],
      [leaf * bs + 6, u16(1)],
      [leaf * bs + 12 + 4, u32(leaf)],
      [leaf * bs + 12 + 8, u16(0)],
    ]);
    await expectError(data, (fs) => fs.read(ino, 0, 30000), /has depth 1, expected 0/);
    // The intact tree reads.
    const fs = await openExt4(new BufferSource(image));
    expect((await fs.read(ino, 0, 30000)).length).toBe(30000);
  });

  it("refuses directory entries with bad rec_len, name length or inode number", async () => {
    const dirIno = inodeNumber("/dir");
    const blocks = debugfs("blocks /dir").trim().split(/\s+/).map(Number);
    expect(blocks.length).toBeGreaterThan(2);
    const leaf = blocks[1]! * bs; // first leaf block after the dx root
    const list = (fs: Awaited<ReturnType<typeof openExt4>>) => fs.readDir(dirIno);
    await expectError(patched([[leaf + 4, u16(5)]]), list, /invalid rec_len 5/);
    await expectError(patched([[leaf + 4, u16(bs + 4)]]), list, /runs past the end/);
    await expectError(patched([[leaf, u32(0xfffffff0)]]), list, /inode 4294967280 is out of range/);
    await expectError(patched([[leaf + 6, (b, at) => (b[at] = 255)]]), list, /name length 255/);
  });

  it("lists a directory whose size claims 4 GiB by skipping the holes", async () => {
    const dirIno = inodeNumber("/dir");
    const fs = await openExt4(new BufferSource(patched([[inodeOffset("/dir") + 4, u32(0xfffffc00)]])));
    expect((await fs.readDir(dirIno)).length).toBe(150);
  });

  it("refuses a symlink whose size is absurd", async () => {
    const ino = inodeNumber("/sym_slow");
    await expectError(
      patched([[inodeOffset("/sym_slow") + 4, u32(1 << 30)]]),
      (fs) => fs.readLink(ino),
      /symlink/,
    );
  });
});

describe("misuse by the caller", () => {
  it("gives UsageError for reads of non-files, bad ranges and huge lengths", async () => {
    const fs = await openExt4(new BufferSource(image));
    const file = inodeNumber("/file");
    await expect(fs.read(fs.rootIno, 0, 10)).rejects.toThrow(UsageError);
    await expect(fs.readDir(file)).rejects.toThrow(UsageError);
    await expect(fs.readLink(file)).rejects.toThrow(UsageError);
    await expect(fs.read(file, -1, 10)).rejects.toThrow(UsageError);
    await expect(fs.read(file, 0.5, 10)).rejects.toThrow(UsageError);
    expect((await fs.read(file, 10 ** 12, 10)).length).toBe(0);
    expect((await fs.read(file, 0, 2 ** 40)).length).toBe(50000);
  });
});
