/**
 * Images made by e2fsprogs (`mkfs.ext2/3/4 -d`, debugfs, e2fsck -D) from a known source tree, read
 * back and compared with the host's view of that tree: contents, names, types, modes, ids, times,
 * link targets and device numbers. Each variant first checks with dumpe2fs/debugfs that the image
 * really has the on-disk structure it is meant to exercise.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ext4Filesystem } from "../../../src/fs/ext4/index.js";
import { cachedImage, fsck, runAsync } from "./images.js";
import {
  BIG_DIR_ENTRIES,
  bigName,
  buildTree,
  DEVICES,
  prng,
  type SourceEntry,
  SPARSE_DATA,
  SPARSE_SIZE,
  snapshot,
} from "./tree.js";
import { openImage, run, sha256, sha256Of, tempDir, walk } from "./util.js";

interface Variant {
  name: string;
  mkfs: string;
  args: string[];
  size: string;
  /** Index directories with e2fsck -D (mkfs -d writes linear directories). */
  index: boolean;
  /** Checks with e2fsprogs that the image has the structure under test. */
  check: (img: string) => void;
}

const debugfs = (img: string, cmd: string) => run("debugfs", ["-R", cmd, img]);
const dumpe2fs = (img: string) => run("dumpe2fs", ["-h", img]);
const features = (img: string) => /Filesystem features:\s*(.*)/.exec(dumpe2fs(img))![1]!.split(/\s+/);
const flagsOf = (img: string, path: string) =>
  Number.parseInt(/Flags: (0x[0-9a-f]+)/.exec(debugfs(img, `stat ${path}`))![1]!, 16);
const INDEX_FL = 0x1000;
const INLINE_FL = 0x10000000;

const VARIANTS: Variant[] = [
  {
    name: "ext4, 4 KiB blocks, 64bit, metadata_csum, htree",
    mkfs: "mkfs.ext4",
    args: ["-b", "4096", "-O", "64bit,metadata_csum"],
    size: "256M",
    index: true,
    check: (img) => {
      expect(features(img)).toEqual(expect.arrayContaining(["64bit", "metadata_csum", "extent", "flex_bg"]));
      expect(flagsOf(img, "/big") & INDEX_FL).toBe(INDEX_FL);
      // e2fsprogs stores small device numbers in the old 16-bit form, others in the new one.
      expect(debugfs(img, "stat /dev/chr_old")).not.toContain("New-style");
      expect(debugfs(img, "stat /dev/chr_new")).toContain("(New-style) Device major/minor number: 300:70000");
    },
  },
  {
    name: "ext4, 1 KiB blocks, no 64bit, two-level htree",
    mkfs: "mkfs.ext4",
    args: ["-b", "1024", "-O", "^64bit,^metadata_csum"],
    size: "256M",
    index: true,
    check: (img) => {
      expect(features(img)).not.toContain("64bit");
      expect(debugfs(img, "htree_dump /big")).toContain("Indirect levels: 1");
    },
  },
  {
    name: "ext4 with inline_data",
    mkfs: "mkfs.ext4",
    args: ["-b", "4096", "-O", "inline_data"],
    size: "256M",
    index: true,
    check: (img) => {
      expect(features(img)).toContain("inline_data");
      expect(flagsOf(img, "/small/s100") & INLINE_FL).toBe(INLINE_FL);
      expect(Number(/Size of inline data: (\d+)/.exec(debugfs(img, "stat /small/s100"))![1])).toBeGreaterThan(
        60,
      );
      expect(flagsOf(img, "/dirs/d3") & INLINE_FL).toBe(INLINE_FL);
      expect(flagsOf(img, "/small/s30") & INLINE_FL).toBe(INLINE_FL);
    },
  },
  {
    name: "ext4 without extents (indirect blocks), 1 KiB blocks",
    mkfs: "mkfs.ext4",
    args: ["-b", "1024", "-O", "^extent,^64bit"],
    size: "256M",
    index: true,
    check: (img) => {
      expect(features(img)).not.toContain("extent");
      expect(debugfs(img, "stat /files/sparse")).toContain("(TIND)");
      expect(debugfs(img, "stat /files/size_1048579")).toContain("(DIND)");
    },
  },
  {
    name: "ext3, 1 KiB blocks",
    mkfs: "mkfs.ext3",
    args: ["-b", "1024"],
    size: "256M",
    index: true,
    check: (img) => {
      expect(features(img)).toContain("has_journal");
      expect(features(img)).not.toContain("extent");
      expect(debugfs(img, "stat /files/size_5242891")).toContain("(DIND)");
    },
  },
  {
    name: "ext2, 4 KiB blocks, 128-byte inodes, linear directories without file types",
    mkfs: "mkfs.ext2",
    args: ["-b", "4096", "-I", "128", "-O", "^dir_index,^filetype"],
    size: "256M",
    index: false,
    check: (img) => {
      expect(features(img)).not.toContain("has_journal");
      expect(features(img)).not.toContain("filetype");
      expect(dumpe2fs(img)).toMatch(/Inode size:\s+128/);
      expect(debugfs(img, "stat /files/sparse")).toContain("(TIND)");
      expect(Number(/Size: (\d+)/.exec(debugfs(img, "stat /big"))![1])).toBeGreaterThan(4096 * 10);
    },
  },
  {
    name: "ext4, 64 KiB blocks",
    mkfs: "mkfs.ext4",
    args: ["-b", "65536"],
    size: "512M",
    index: true,
    check: (img) => expect(dumpe2fs(img)).toMatch(/Block size:\s+65536/),
  },
  {
    name: "ext4 with meta_bg, inodes spread over meta groups",
    mkfs: "mkfs.ext4",
    args: ["-b", "1024", "-O", "meta_bg,^resize_inode", "-N", "4000"],
    size: "512M",
    index: true,
    check: (img) => {
      expect(features(img)).toContain("meta_bg");
      const ipg = Number(/Inodes per group:\s+(\d+)/.exec(dumpe2fs(img))![1]);
      const last = `/big/${bigName(BIG_DIR_ENTRIES - 1)}`;
      const ino = Number(/Inode: (\d+)/.exec(debugfs(img, `stat ${last}`))![1]);
      // 16 descriptors of 64 bytes per 1 KiB block: this inode's descriptor is in the second meta group.
      expect(Math.floor((ino - 1) / ipg)).toBeGreaterThanOrEqual(16);
    },
  },
  {
    name: "ext4 with bigalloc (64 KiB clusters)",
    mkfs: "mkfs.ext4",
    args: ["-b", "4096", "-O", "bigalloc", "-C", "65536"],
    size: "512M",
    index: true,
    check: (img) => expect(features(img)).toContain("bigalloc"),
  },
];

async function compareWithSource(
  fs: Ext4Filesystem,
  src: Map<string, SourceEntry>,
  srcRoot: string,
): Promise<void> {
  const tree = await walk(fs);
  expect([...tree.keys()].sort()).toEqual([...src.keys(), "/lost+found"].sort());
  for (const [path, s] of src) {
    const g = tree.get(path)!;
    const st = g.stat;
    const want: Record<string, unknown> = { path, type: s.type, mode: s.mode, uid: s.uid, gid: s.gid };
    const got: Record<string, unknown> = { path, type: st.type, mode: st.mode, uid: st.uid, gid: st.gid };
    if (path !== "/") {
      Object.assign(want, { mtime: s.mtime, atime: s.atime, nlink: s.nlink });
      Object.assign(got, { mtime: st.mtime, atime: st.atime, nlink: st.nlink });
    }
    if (s.type !== "dir") {
      want.size = s.size;
      got.size = st.size;
    }
    expect(got).toEqual(want);
    if (s.type === "symlink") expect(await fs.readLink(g.ino), path).toBe(s.target);
    if (s.type === "dir") {
      const names = path === "/" ? [...s.names!, "lost+found"] : s.names!;
      expect([...g.names!].sort(), path).toEqual([...names].sort());
    }
    if (s.type === "chardev" || s.type === "blockdev") {
      expect(st.rdev, path).toEqual(DEVICES[path.split("/")[2] as keyof typeof DEVICES]);
    }
    if (s.type === "file" && path !== "/files/sparse") {
      const bytes = readFileSync(join(srcRoot, path));
      expect(await sha256Of(fs, g.ino, st.size), path).toBe(sha256(bytes));
    }
  }
  expect(tree.get("/files/hard_a")!.ino).toBe(tree.get("/files/hard_b")!.ino);

  // The sparse file: its data regions, the bytes around them, and zeros far inside the holes.
  const sparse = tree.get("/files/sparse")!;
  expect(sparse.stat.size).toBe(SPARSE_SIZE);
  const fd = join(srcRoot, "files/sparse");
  const srcRead = (off: number, len: number) => {
    const buf = Buffer.alloc(len);
    const h = openSync(fd, "r");
    readSync(h, buf, 0, len, off);
    closeSync(h);
    return buf;
  };
  for (const [off, len] of SPARSE_DATA) {
    const from = off - 4099;
    const n = Math.min(len + 8200, SPARSE_SIZE - from);
    expect((await fs.read(sparse.ino, from, n)).equals(srcRead(from, n)), `sparse @${off}`).toBe(true);
  }
  for (const off of [0, 3 * 1024 ** 3, 2 ** 32 - 2 * 1024 * 1024, SPARSE_SIZE - 5 * 1024 * 1024]) {
    expect((await fs.read(sparse.ino, off, 1 << 20)).equals(Buffer.alloc(1 << 20)), `hole @${off}`).toBe(
      true,
    );
  }

  // Unaligned reads across block and extent boundaries.
  const big = tree.get("/files/size_5242891")!;
  const bigBytes = readFileSync(join(srcRoot, "files/size_5242891"));
  const rand = prng(7);
  for (let i = 0; i < 50; i++) {
    const r = rand(8);
    const off = r.readUInt32LE(0) % bigBytes.length;
    const len = r.readUInt32LE(4) % 300000;
    expect(
      (await fs.read(big.ino, off, len)).equals(bigBytes.subarray(off, off + len)),
      `${off}+${len}`,
    ).toBe(true);
  }
}

describe("images made by mkfs -d from a known tree", () => {
  const tmp = tempDir("ext4-gen-");
  const srcRoot = join(tmp.dir, "src");
  let src: Map<string, SourceEntry>;
  const images = new Map<string, Promise<string>>();

  beforeAll(() => {
    mkdirSync(srcRoot);
    buildTree(srcRoot);
    src = snapshot(srcRoot);
    for (const v of VARIANTS) {
      const { check: _, ...recipe } = v;
      const image = cachedImage({ kind: "mkfs-d", ...recipe }, async (img) => {
        await runAsync(v.mkfs, ["-q", "-F", ...v.args, "-d", srcRoot, img, v.size]);
        if (v.index) await fsck(img, true);
        await fsck(img, false);
      });
      image.catch(() => {}); // reported by the variant's own test
      images.set(v.name, image);
    }
  });
  afterAll(() => tmp.cleanup());

  it.each(VARIANTS)("$name", async (v) => {
    const img = await images.get(v.name)!;
    v.check(img);
    const { fs, source } = await openImage(img);
    try {
      expect(fs.features).toEqual(features(img));
      expect(fs.variant).toBe(v.mkfs.slice(-4));
      await compareWithSource(fs, src, srcRoot);
    } finally {
      await source.close();
    }
  });
});
