/**
 * Filesystems left clean or dirty by the real kernel and tools, each with what the reference tools say
 * about it: XFS judged by xfs_logprint and xfs_repair -n, ext2/ext4 by dumpe2fs. Dirty states come
 * from what happens to real machines: a shutdown (xfs_io -x -c shutdown, the ioctl fstests use to
 * simulate a crash) before unmount, a kernel error recorded while mounted, a copy taken while mounted.
 */
import { execFileSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedToolImage, withLoopMount } from "./loop-images.js";
import { SMALL_FS_ENV } from "./xfs/mkfs.js";

const MiB = 1024 * 1024;
/** This file's source: a change to a builder rebuilds the cached images. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

export interface XfsAnswers {
  /** xfs_logprint -t's verdict and head block. */
  readonly logprint: { state: string; head: number };
  /** xfs_repair -n found log changes to replay. */
  readonly replayAlert: boolean;
  /** xfs_repair -n found metadata stamped ahead of the log. */
  readonly lsnAhead: boolean;
}

export interface Ext4Answers {
  /** dumpe2fs -h's "Filesystem state", features and error count. */
  readonly state: string;
  readonly features: string[];
  readonly errorCount: number;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", env: SMALL_FS_ENV, stdio: ["ignore", "pipe", "pipe"] });
}

/** Output and error output together, whatever the exit status (xfs_repair -n exits 1 on findings). */
function shAll(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ""}${err.stderr ?? ""}`;
  }
}

function xfsAnswers(img: string): XfsAnswers {
  const print = shAll("xfs_logprint", ["-t", img]);
  const m = /head: (\d+) state: <(\w+)>/.exec(print);
  if (!m) throw new Error(`xfs_logprint -t printed no state:\n${print}`);
  const repair = shAll("xfs_repair", ["-n", "-o", "force_geometry", img]);
  return {
    logprint: { state: m[2]!, head: Number(m[1]) },
    replayAlert: /valuable metadata changes in a log/.test(repair),
    lsnAhead: /metadata LSN .* is ahead of log/.test(repair),
  };
}

function ext4Answers(img: string): Ext4Answers {
  const dump = sh("dumpe2fs", ["-h", img]);
  return {
    state: /Filesystem state:\s+(.*)/.exec(dump)![1]!.trim(),
    features: /Filesystem features:\s+(.*)/.exec(dump)![1]!.trim().split(/\s+/),
    errorCount: Number(/FS Error count:\s+(\d+)/.exec(dump)?.[1] ?? 0),
  };
}

function writeFiles(dir: string, count: number): void {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `f${i}`), `file ${i}\n`);
}

function mkfsXfs(img: string, options: readonly string[]): void {
  execFileSync("truncate", ["-s", String(64 * MiB), img]);
  sh("mkfs.xfs", ["-q", "-f", ...options, img]);
}

/** Many create/unlink rounds, each synced, so the log wraps at least once. */
function churn(mnt: string): void {
  for (let round = 0; round < 4; round++) {
    writeFiles(mnt, 2000);
    sh("sync", []);
    for (let i = 0; i < 2000; i++) unlinkSync(join(mnt, `f${i}`));
    sh("sync", []);
  }
}

/** A write that reaches the log, then a shutdown without flushing it, then the unmount. */
function crash(mnt: string): void {
  writeFiles(mnt, 50);
  sh("sync", []);
  writeFileSync(join(mnt, "late"), "after the last sync\n");
  sh("xfs_io", ["-x", "-c", "shutdown", mnt]);
}

/** Zeroes the internal log of an XFS image, located from its superblock. */
function zeroXfsLog(img: string): void {
  const fd = openSync(img, "r+");
  try {
    const sb = Buffer.alloc(512);
    readSync(fd, sb, 0, 512, 0);
    const blockSize = sb.readUInt32BE(4);
    const logStart = Number(sb.readBigUInt64BE(48));
    const agBlocks = sb.readUInt32BE(84);
    const agBlkLog = sb[124]!;
    const agno = Math.floor(logStart / 2 ** agBlkLog);
    const at = (agno * agBlocks + (logStart - agno * 2 ** agBlkLog)) * blockSize;
    const length = sb.readUInt32BE(96) * blockSize;
    writeSync(fd, Buffer.alloc(length), 0, length, at);
  } finally {
    closeSync(fd);
  }
}

export const XFS_CASES = {
  fresh: { mount: false, build: (img: string) => mkfsXfs(img, []) },
  "v4-fresh": { mount: false, build: (img: string) => mkfsXfs(img, ["-m", "crc=0", "-i", "size=256"]) },
  unmounted: {
    mount: true,
    build: (img: string) => {
      mkfsXfs(img, []);
      withLoopMount(img, "noatime", (mnt) => writeFiles(mnt, 50));
    },
  },
  wrapped: {
    mount: true,
    build: (img: string) => {
      mkfsXfs(img, ["-b", "size=1024"]);
      withLoopMount(img, "noatime", churn);
    },
  },
  shutdown: {
    mount: true,
    build: (img: string) => {
      mkfsXfs(img, []);
      withLoopMount(img, "noatime", crash);
    },
  },
  "wrapped-shutdown": {
    mount: true,
    build: (img: string) => {
      mkfsXfs(img, ["-b", "size=1024"]);
      withLoopMount(img, "noatime", (mnt) => {
        churn(mnt);
        crash(mnt);
      });
    },
  },
  zeroed: {
    mount: true,
    build: (img: string) => {
      mkfsXfs(img, []);
      withLoopMount(img, "noatime", (mnt) => writeFiles(mnt, 10));
      zeroXfsLog(img);
    },
  },
} as const;

export function xfsCleanImage(name: keyof typeof XFS_CASES): { path: string; answers: XfsAnswers } {
  return cachedToolImage("clean", `xfs-${name}`, { name, SOURCE }, (img) => {
    XFS_CASES[name].build(img);
    return xfsAnswers(img);
  });
}

function mkfsExt(img: string, mkfs: string, options: readonly string[] = []): void {
  sh(mkfs, ["-q", "-F", ...options, img, "16M"]);
}

export const EXT4_CASES = {
  fresh: (img: string) => mkfsExt(img, "mkfs.ext4"),
  shutdown: (img: string) => {
    mkfsExt(img, "mkfs.ext4");
    withLoopMount(img, "noatime", crash);
  },
  errors: (img: string) => {
    // A directory block damaged on disk: reading it while mounted makes the kernel record an error.
    mkfsExt(img, "mkfs.ext4", ["-O", "^metadata_csum"]);
    withLoopMount(img, "noatime", (mnt) => {
      execFileSync("mkdir", [join(mnt, "d")]);
      writeFiles(join(mnt, "d"), 5);
    });
    const block = Number(sh("debugfs", ["-R", "blocks /d", img]).trim());
    const blockSize = Number(/Block size:\s+(\d+)/.exec(sh("dumpe2fs", ["-h", img]))![1]);
    const fd = openSync(img, "r+");
    writeSync(fd, Buffer.alloc(12, 0xff), 0, 12, block * blockSize + 16);
    closeSync(fd);
    withLoopMount(img, "noatime", (mnt) => shAll("ls", [join(mnt, "d")]));
  },
  "ext2-mounted-copy": (img: string) => {
    // Without a journal, the kernel marks the state "not clean" while mounted; a copy keeps that.
    const live = `${img}.live`;
    mkfsExt(live, "mkfs.ext2");
    withLoopMount(live, "noatime", (mnt) => {
      writeFiles(mnt, 20);
      sh("sync", []);
      copyFileSync(live, img);
    });
    unlinkSync(live);
  },
} as const;

export function ext4CleanImage(name: keyof typeof EXT4_CASES): { path: string; answers: Ext4Answers } {
  return cachedToolImage("clean", `ext-${name}`, { name, SOURCE }, (img) => {
    EXT4_CASES[name](img);
    return ext4Answers(img);
  });
}
