/**
 * FAT12/16/32 images made with mkfs.fat and filled with mtools (no mount): long and short names,
 * Unicode, a deep path, a directory spanning many clusters, a read-only file and a file fragmented
 * into the holes left by deleted ones. mtools also answers: `mdir -/ -b` lists every path, `mcopy`
 * to stdout gives contents, `mshowfat` the cluster chains.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedToolImage } from "../loop-images.js";
import { seededBytes } from "../xfs/mkfs.js";

const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");
const MTOOLS_ENV = { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TZ: "UTC", MTOOLS_SKIP_CHECK: "1" };

export const FAT_IMAGES = {
  fat12: { mkfs: ["-F", "12"], kib: 2048 },
  fat16: { mkfs: ["-F", "16"], kib: 9216 },
  fat32: { mkfs: ["-F", "32", "-s", "1"], kib: 34816 },
} as const;
export type FatKind = keyof typeof FAT_IMAGES;

export const LONG_NAME = `${"long name ".repeat(20)}end.txt`;
/** Holes left for the fragmented file, one cluster each. */
const HOLES = 40;
export const DEEP = Array.from({ length: 30 }, (_, i) => `level${i}`).join("/");

export interface FatAnswers {
  /** Every path mtools lists (directories end with "/"), without the "::" prefix. */
  readonly paths: string[];
  /** sha256 of every file's content as mtools copies it out. */
  readonly sha256: Record<string, string>;
  /** mshowfat's cluster runs of the fragmented file. */
  readonly fragments: number;
}

export function mtools(cmd: string, args: readonly string[]): Buffer {
  const run = spawnSync(cmd, args, { env: MTOOLS_ENV, maxBuffer: 1 << 28 });
  if (run.status !== 0)
    throw new Error(`${cmd} exited ${run.status ?? run.signal}: ${run.stderr}`.slice(0, 500));
  return run.stdout;
}

function tree(root: string): void {
  const file = (path: string, content: Buffer | string) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  file("EFI/BOOT/BOOTX64.EFI", seededBytes(1, 50_000));
  file("EFI/almalinux/grub.cfg", "search --fs-uuid --set=dev 1234\nconfigfile $prefix/grub.cfg\n");
  file("readme.txt", "a short lower-case name\n");
  file("Mixed Case Long Name.conf", "mixed\n");
  file("ünïcødé ✓ name.txt", "unicode\n");
  file(LONG_NAME, "a name needing many long-name entries\n");
  file("empty", "");
  file(`${DEEP}/leaf.txt`, "at the bottom\n");
  for (let i = 0; i < 300; i++) file(`many/entry number ${i}.txt`, `${i}\n`);
}

/** The image of `kind`, built with mtools if not cached, and mtools' answers about it. */
export function fatImage(kind: FatKind): { path: string; answers: FatAnswers } {
  const { mkfs, kib } = FAT_IMAGES[kind];
  return cachedToolImage("fat", kind, { mkfs, kib, SOURCE }, (img) => {
    const src = `${img}.src`;
    mkdirSync(src);
    tree(src);
    execFileSync("mkfs.fat", [...mkfs, "-n", "ESP", "-i", "1234ABCD", "-C", img, String(kib)], {
      stdio: "pipe",
    });
    const i = ["-i", img];
    const top = ["EFI", "readme.txt", "Mixed Case Long Name.conf", "ünïcødé ✓ name.txt", LONG_NAME, "empty"];
    mtools("mcopy", ["-s", "-m", ...i, ...[...top, "level0", "many"].map((p) => join(src, p)), "::"]);
    mtools("mattrib", [...i, "+r", "::/readme.txt"]);
    // One-cluster files filling consecutive clusters, a filler taking all the space left, then every
    // other small file deleted: a file exactly as large as the holes can only be written into them.
    mtools("mmd", [...i, "::/holes"]);
    const holeFiles = Array.from({ length: 2 * HOLES }, (_, n) => join(src, "holes", `h${n}`));
    mkdirSync(join(src, "holes"));
    for (const f of holeFiles) writeFileSync(f, "x");
    mtools("mcopy", [...i, ...holeFiles, "::/holes"]);
    // Its directory entry first: a FAT32 root that grows later would take a hole.
    writeFileSync(join(src, "fragmented.bin"), "");
    mtools("mcopy", [...i, join(src, "fragmented.bin"), "::/fragmented.bin"]);
    const free = mtools("mdir", [...i, "::"]).toString("utf8");
    const freeBytes = Number(/([\d ]+) bytes free/.exec(free)![1]!.replaceAll(" ", ""));
    writeFileSync(join(src, "filler"), Buffer.alloc(freeBytes));
    mtools("mcopy", [...i, join(src, "filler"), "::/filler"]);
    mtools("mdel", [...i, ...Array.from({ length: HOLES }, (_, n) => `::/holes/h${2 * n}`)]);
    const head = readFileSync(img).subarray(0, 512);
    const clusterSize = head.readUInt16LE(11) * head[13]!;
    writeFileSync(join(src, "fragmented.bin"), seededBytes(7, HOLES * clusterSize));
    mtools("mcopy", ["-o", ...i, join(src, "fragmented.bin"), "::/fragmented.bin"]);

    const paths = mtools("mdir", ["-/", "-b", ...i, "::"])
      .toString("utf8")
      .split("\n")
      .filter((l) => l.startsWith("::/"))
      .map((l) => l.slice(2));
    // Every file copied back out in one go, then hashed.
    const out = `${img}.out`;
    mkdirSync(out);
    mtools("mcopy", ["-s", "-n", ...i, "::/*", out]);
    const sha256: Record<string, string> = {};
    for (const p of paths.filter((p) => !p.endsWith("/"))) {
      sha256[p] = createHash("sha256")
        .update(readFileSync(join(out, p)))
        .digest("hex");
    }
    const chain = mtools("mshowfat", [...i, "::/fragmented.bin"]).toString("utf8");
    rmSync(src, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    return { paths, sha256, fragments: [...chain.matchAll(/<\d+(-\d+)?>/g)].length };
  });
}
