/**
 * An XFS image whose files only a mounted kernel can shape: fragmented files (multi-level extent
 * B+trees), sparse files past 4 GiB, unwritten (preallocated) extents, punched holes, reflinks, hard
 * links, two-block remote symlinks and a directory with holes. The kernel's own reads of the mounted
 * files are recorded as the oracle next to the image, which is cached under .cache/xfs.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CACHE } from "./helpers.js";
import { SMALL_FS_ENV, seededBytes } from "./mkfs.js";

const GiB = 1024 ** 3;
const RECIPE_VERSION = 3;
export const FRAGMENTS = 4000;
export const LONG_TARGET = "L".repeat(1023);

/** (offset, length) reads of the sparse file whose bytes the kernel recorded. */
export const SPARSE_PROBES: readonly (readonly [number, number])[] = [
  [0, 2048],
  [4 * GiB - 150, 300],
  [4 * GiB + 4096, 8192],
  [5 * GiB, 20000],
  [5.5 * GiB, 65536],
  [6 * GiB - 10, 10],
];

export interface KernelFile {
  ino: number;
  size: number;
  nlink: number;
  mode: number;
  mtime: number;
  atime: number;
  /** sha256 of the whole file (absent for the 6 GiB sparse one). */
  sha256?: string;
  /** sha256 of each SPARSE_PROBES read. */
  probes?: string[];
  target?: string;
  names?: string[];
}

export interface MountedImage {
  path: string;
  kernel: Record<string, KernelFile>;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", env: SMALL_FS_ENV, stdio: ["ignore", "pipe", "pipe"] });
}

function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** The kernel's view of everything under the mount point. */
function recordKernelView(mnt: string): Record<string, KernelFile> {
  const out: Record<string, KernelFile> = {};
  const visit = (rel: string) => {
    const abs = join(mnt, rel);
    const st = lstatSync(abs);
    const entry: KernelFile = {
      ino: st.ino,
      size: st.size,
      nlink: st.nlink,
      mode: st.mode & 0o7777,
      mtime: Math.floor(st.mtimeMs / 1000),
      atime: Math.floor(st.atimeMs / 1000),
    };
    if (st.isSymbolicLink()) entry.target = readlinkSync(abs, "utf8");
    else if (st.isDirectory()) {
      entry.names = readdirSync(abs);
      for (const n of entry.names) visit(rel === "" ? n : `${rel}/${n}`);
    } else if (st.isFile()) {
      if (st.size <= 64 * 1024 * 1024) entry.sha256 = sha(readFileSync(abs));
      else entry.probes = SPARSE_PROBES.map(([o, l]) => sha(readRange(abs, o, l)));
    }
    out[`/${rel}`] = entry;
  };
  visit("");
  return out;
}

/** Writes the files through the mounted kernel. */
function populate(mnt: string): void {
  // Every other 1 KiB block written: one extent per block, a multi-level extent B+tree.
  const frag = openSync(join(mnt, "fragmented"), "w");
  for (let i = 0; i < FRAGMENTS; i++) writeSync(frag, seededBytes(i + 1, 1024), 0, 1024, i * 2048);
  fsyncSync(frag);
  closeSync(frag);

  const sparse = openSync(join(mnt, "sparse6g"), "w");
  writeSync(sparse, seededBytes(7, 1500), 0, 1500, 0);
  writeSync(sparse, seededBytes(8, 200), 0, 200, 4 * GiB - 100);
  writeSync(sparse, seededBytes(9, 10000), 0, 10000, 5 * GiB + 3);
  closeSync(sparse);
  execFileSync("truncate", ["-s", String(6 * GiB), join(mnt, "sparse6g")]);

  // Written head, a preallocated (unwritten) tail with one written block inside it.
  run("xfs_io", [
    "-f",
    "-c",
    "pwrite -S 0x61 0 65536",
    "-c",
    "falloc 65536 1048576",
    "-c",
    "pwrite -S 0x62 524288 4096",
    "-c",
    "falloc -k 1114112 65536",
    join(mnt, "prealloc"),
  ]);

  writeFileSync(join(mnt, "punched"), seededBytes(11, 256 * 1024));
  run("xfs_io", ["-c", "fpunch 4096 8192", "-c", "fpunch 100000 50000", join(mnt, "punched")]);
  run("cp", ["--reflink=always", join(mnt, "punched"), join(mnt, "reflinked")]);
  run("xfs_io", ["-c", "pwrite -S 0x7a 20000 3000", join(mnt, "reflinked")]);
  linkSync(join(mnt, "punched"), join(mnt, "hardlink"));

  symlinkSync(LONG_TARGET, join(mnt, "longlink"));
  symlinkSync("M".repeat(900), join(mnt, "midlink"));

  // A directory whose early data blocks were emptied and freed: holes in its data section.
  const holey = join(mnt, "holey");
  mkdirSync(holey);
  const name = (i: number) => `${"h".repeat(200)}-${String(i).padStart(5, "0")}`;
  for (let i = 0; i < 3000; i++) writeFileSync(join(holey, name(i)), "");
  for (let i = 0; i < 2500; i++) if (i % 500 !== 0) unlinkSync(join(holey, name(i)));
}

/** Why mounting cannot work here, or undefined when it might. */
export function mountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root";
  try {
    execFileSync("losetup", ["-f"], { stdio: "pipe" });
  } catch {
    return "no free loop device";
  }
  return undefined;
}

function cachePaths(): { path: string; oracle: string } {
  const mkfs = execFileSync("mkfs.xfs", ["-V"], { encoding: "utf8" }).trim();
  const key = createHash("sha256")
    .update(JSON.stringify({ RECIPE_VERSION, mkfs, FRAGMENTS, SPARSE_PROBES }))
    .digest("hex")
    .slice(0, 20);
  const path = join(CACHE, `mounted-${key}.img`);
  return { path, oracle: `${path}.kernel.json` };
}

/** The cached mounted-kernel image, if an earlier run built it. */
export function cachedMountedImage(): MountedImage | undefined {
  const { path, oracle } = cachePaths();
  if (!existsSync(path) || !existsSync(oracle)) return undefined;
  return { path, kernel: JSON.parse(readFileSync(oracle, "utf8")) as Record<string, KernelFile> };
}

/** Builds the image with a loop mount (root only); throws with the reason when that fails. */
export function buildMountedImage(): MountedImage {
  const { path, oracle } = cachePaths();
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "xfs-mount-"));
  const img = join(work, "fs.img");
  const mnt = join(work, "mnt");
  mkdirSync(mnt);
  let mounted = false;
  try {
    execFileSync("truncate", ["-s", String(256 * 1024 * 1024), img]);
    run("mkfs.xfs", ["-q", "-f", "-b", "size=1024", "-m", "reflink=1", "-L", "mounted", img]);
    run("mount", ["-t", "xfs", "-o", "loop,noatime", img, mnt]);
    mounted = true;
    populate(mnt);
    run("sync", []);
    const kernel = recordKernelView(mnt);
    run("umount", [mnt]);
    mounted = false;
    writeFileSync(oracle, JSON.stringify(kernel));
    renameSync(img, path);
    return { path, kernel };
  } finally {
    if (mounted) {
      try {
        run("umount", [mnt]);
        mounted = false;
      } catch {
        // still mounted: leave the temp dir rather than delete through the mount
      }
    }
    if (!mounted) rmSync(work, { recursive: true, force: true });
  }
}
