/** The trees the generated XFS images hold: every directory form, deep paths, links, devices, files. */
import { dir, seededBytes, type TreeNode } from "./mkfs.js";

function many(count: number, name: (i: number) => string): Map<string, TreeNode> {
  const m = new Map<string, TreeNode>();
  const empty = Buffer.alloc(0);
  for (let i = 0; i < count; i++) m.set(name(i), { kind: "file", content: empty });
  return m;
}

export const FILE_SIZES = [0, 1, 100, 511, 512, 1023, 4095, 4096, 4097, 65543, 1048589, 3 * 1048576 + 5];

/**
 * A tree whose directories take every on-disk form for the given directory block size: short-form,
 * block, leaf, node and (with enough long names to fragment the directory) extent B+tree.
 * mkfs.xfs 6.1 writes v5 remote symlinks without their block header (xfs_repair rejects them), so
 * v5 trees keep `remoteSymlinks` off; the real fixture and the mounted image cover those.
 */
export function standardTree(
  scale: { leaf: number; node: number; btree: number },
  options: { remoteSymlinks: boolean },
): TreeNode {
  const files = new Map<string, TreeNode>();
  for (const [i, size] of FILE_SIZES.entries()) {
    files.set(`f${size}`, { kind: "file", content: seededBytes(1000 + i, size) });
  }
  files.set("setuid", { kind: "file", mode: 0o4755, content: Buffer.from("suid\n") });
  files.set("setgid", {
    kind: "file",
    mode: 0o2750,
    uid: 4000000000,
    gid: 65534,
    content: Buffer.from("sgid\n"),
  });
  files.set("private", { kind: "file", mode: 0o600, uid: 1000, gid: 1000, content: Buffer.from("secret\n") });
  files.set("ünïcødé-名前.txt", { kind: "file", content: Buffer.from("unicode name\n") });

  let deep: TreeNode = dir({ bottom: { kind: "file", content: Buffer.from("at the bottom\n") } });
  for (let i = 59; i >= 0; i--) deep = dir({ [`level${i}`]: deep });

  return dir({
    empty: dir({}),
    sf: dir(many(3, (i) => `s${i}`)),
    block: dir(many(40, (i) => `block-entry-${i}`)),
    leaf: dir(many(scale.leaf, (i) => `leaf-entry-${String(i).padStart(5, "0")}`)),
    node: dir(many(scale.node, (i) => `node-entry-${String(i).padStart(6, "0")}`)),
    btree: dir(many(scale.btree, (i) => `${"b".repeat(180)}-${String(i).padStart(6, "0")}`)),
    deep,
    files: dir(files),
    links: dir({
      short: { kind: "symlink", target: "../files/f100" },
      medium: { kind: "symlink", target: `${"m/".repeat(100)}end` },
      ...(options.remoteSymlinks ? { max: { kind: "symlink", target: "x".repeat(1023) } as TreeNode } : {}),
      absolute: { kind: "symlink", target: "/files/f4096" },
      chain1: { kind: "symlink", target: "chain2" },
      chain2: { kind: "symlink", target: "chain3" },
      chain3: { kind: "symlink", target: "../files/f1" },
      loopA: { kind: "symlink", target: "loopB" },
      loopB: { kind: "symlink", target: "loopA" },
      dangling: { kind: "symlink", target: "does/not/exist" },
    }),
    dev: dir({
      null: { kind: "chardev", major: 1, minor: 3 },
      sda1: { kind: "blockdev", major: 8, minor: 1 },
      big: { kind: "chardev", major: 511, minor: 262143 },
      fifo: { kind: "fifo" },
    }),
  });
}

const MiB = 1024 * 1024;

/** The protofile images the tests build: v4 and v5, 1 KiB to 64 KiB blocks, every directory form. */
export const GENERATED_CONFIGS = [
  {
    name: "v5-4k-dir8k",
    options: ["-b", "size=4096", "-n", "size=8192"],
    size: 128 * MiB,
    scale: { leaf: 600, node: 4000, btree: 8000 },
    remoteSymlinks: false,
  },
  {
    name: "v4-1k-dir16k-noftype",
    options: ["-m", "crc=0", "-b", "size=1024", "-n", "size=16384,ftype=0", "-i", "size=256"],
    size: 128 * MiB,
    scale: { leaf: 1200, node: 5000, btree: 8000 },
    remoteSymlinks: true,
  },
  {
    name: "v5-1k-nrext64",
    options: ["-b", "size=1024", "-i", "nrext64=1"],
    size: 128 * MiB,
    scale: { leaf: 300, node: 2000, btree: 4000 },
    remoteSymlinks: false,
  },
  {
    name: "v5-64k-dir64k",
    options: ["-b", "size=65536", "-n", "size=65536"],
    size: 512 * MiB,
    scale: { leaf: 4000, node: 12000, btree: 8000 },
    remoteSymlinks: false,
  },
] as const;
