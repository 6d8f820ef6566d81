/**
 * A deterministic source tree for `mkfs.ext* -d`, and a snapshot of it taken with the host's lstat:
 * the oracle the generated-image tests compare against (the bytes and metadata that went in).
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

/** xorshift32: reproducible bytes without depending on the code under test. */
export function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
}

export const GiB = 1024 ** 3;
export const SPARSE_SIZE = 5 * GiB;
/** Data written into the sparse file: [offset, length]; it ends with data (mkfs -d 1.47.0 drops a trailing hole). */
export const SPARSE_DATA: readonly (readonly [number, number])[] = [
  [1024 * 1024 + 3, 5000],
  [4 * GiB + 12345, 70000],
  [SPARSE_SIZE - 100, 100],
];
export const FILE_SIZES = [
  0,
  1,
  59,
  60,
  61,
  100,
  1023,
  1024,
  1025,
  4095,
  4096,
  4097,
  65543,
  1048579,
  5 * 1048576 + 11,
];
export const DEVICES = { chr_old: [1, 3], chr_new: [300, 70000], blk: [8, 1] } as const;
export const BIG_DIR_ENTRIES = 2000;
/** Long names, so that 2000 entries need a two-level htree with 1 KiB blocks. */
export const bigName = (i: number) => `entry-${i}-${"x".repeat(50 + (i % 50))}`;

export interface TreeOptions {
  /** Entries in /big (an htree directory once e2fsck -D indexes it). */
  bigEntries?: number;
}

export function buildTree(root: string, options: TreeOptions = {}): void {
  const rand = prng(0x5eed);
  const p = (...parts: string[]) => join(root, ...parts);
  for (const d of ["files", "big", "small", "links", "dev", "dirs", "sticky"]) mkdirSync(p(d));

  for (const n of FILE_SIZES) writeFileSync(p("files", `size_${n}`), rand(n));
  const fd = openSync(p("files", "sparse"), "w");
  for (const [off, len] of SPARSE_DATA) writeSync(fd, rand(len), 0, len, off);
  closeSync(fd);
  truncateSync(p("files", "sparse"), SPARSE_SIZE);
  writeFileSync(p("files", "hard_a"), rand(3000));
  linkSync(p("files", "hard_a"), p("files", "hard_b"));
  writeFileSync(p("files", "setuid"), "x");
  chmodSync(p("files", "setuid"), 0o4755);
  writeFileSync(p("files", "owned"), "owned");
  chownSync(p("files", "owned"), 100000, 70000);
  writeFileSync(p("files", "café ünïcødé ✓"), "utf-8 name");
  writeFileSync(p("files", "n".repeat(255)), "longest name");
  writeFileSync(p("files", "old"), "1918");
  utimesSync(p("files", "old"), new Date("1918-11-11T11:00:00Z"), new Date("1918-11-11T11:00:00Z"));

  const bigEntries = options.bigEntries ?? BIG_DIR_ENTRIES;
  for (let i = 0; i < bigEntries; i++) {
    writeFileSync(p("big", bigName(i)), String(i));
  }
  for (let i = 0; i < 150; i++) writeFileSync(p("small", `s${i}`), rand(i));
  for (let i = 0; i < 40; i++) {
    mkdirSync(p("dirs", `d${i}`));
    for (let k = 0; k < i % 4; k++) writeFileSync(p("dirs", `d${i}`, `f${k}`), `${i}/${k}`);
  }
  chmodSync(p("sticky"), 0o1777);

  const links: Record<string, string> = {
    fast: "../files/size_1",
    slow: `${"x/".repeat(200)}end`,
    abs: "/files/size_1",
    chain1: "chain2",
    chain2: "chain3",
    chain3: "../files/size_100",
    loop_a: "loop_b",
    loop_b: "loop_a",
    dangling: "nowhere",
    t59: "y".repeat(59),
    t60: "y".repeat(60),
  };
  for (const [name, target] of Object.entries(links)) symlinkSync(target, p("links", name));

  execFileSync("mkfifo", [p("dev", "fifo")]);
  for (const [name, [major, minor]] of Object.entries(DEVICES)) {
    execFileSync("mknod", [p("dev", name), name.startsWith("chr") ? "c" : "b", String(major), String(minor)]);
  }
  fixTimes(root);
}

/**
 * Gives every path fixed times, so the tree (and an image cached from it) is the same on every run:
 * mtimes from 2020 on (the 1918 file keeps its own), atimes in 2037, i.e. in the future, so that reading
 * the tree (our snapshot, mkfs) cannot change them under relatime.
 */
function fixTimes(root: string): void {
  const mtime0 = Date.UTC(2020, 0, 1) / 1000;
  const atime0 = Date.UTC(2037, 0, 1) / 1000;
  let i = 0;
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isDirectory()) for (const n of readdirSync(path).sort()) visit(join(path, n));
    const mtime = st.mtimeMs < 0 ? st.mtime : mtime0 + i;
    const atime = atime0 + i++;
    if (st.isSymbolicLink()) lutimesSync(path, atime, mtime);
    else utimesSync(path, atime, mtime);
  };
  visit(root);
}

export interface SourceEntry {
  type: string;
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  target?: string;
  names?: string[];
  /** Host inode number: names sharing one are hard links. */
  hostIno: number;
}

/** lstat of every path below `root`, keyed by its path inside the image ("/" is the root). */
export function snapshot(root: string): Map<string, SourceEntry> {
  const out = new Map<string, SourceEntry>();
  const visit = (host: string, path: string) => {
    const st = lstatSync(host, { bigint: true });
    const type = st.isDirectory()
      ? "dir"
      : st.isSymbolicLink()
        ? "symlink"
        : st.isFile()
          ? "file"
          : st.isFIFO()
            ? "fifo"
            : st.isCharacterDevice()
              ? "chardev"
              : st.isBlockDevice()
                ? "blockdev"
                : "socket";
    const e: SourceEntry = {
      type,
      mode: Number(st.mode & 0o7777n),
      size: Number(st.size),
      nlink: Number(st.nlink),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: seconds(st.mtimeNs),
      atime: seconds(st.atimeNs),
      hostIno: Number(st.ino),
    };
    if (type === "symlink") e.target = readlinkSync(host, "utf8");
    if (type === "dir") {
      e.names = readdirSync(host);
      for (const n of e.names) visit(join(host, n), path === "/" ? `/${n}` : `${path}/${n}`);
    }
    out.set(path, e);
  };
  visit(root, "/");
  return out;
}

/** Nanoseconds to whole seconds, rounded down (also before 1970). */
function seconds(ns: bigint): number {
  const q = ns / 1_000_000_000n;
  return Number(ns % 1_000_000_000n < 0n ? q - 1n : q);
}
