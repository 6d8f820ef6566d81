/**
 * The generated images the inspect tests use (built or found in the cache by imagegen), and small
 * oracles: real tools only (sort, debugfs, rpm), never our own reader.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltImage, buildImage, type ImageSpec } from "../../imagegen/index.js";

/** Specs shared with test/imagegen where possible, so the cache serves both. */
export const SPECS = {
  al9: { arch: "x86_64", el: "9", release: "9.6", rootfs: "xfs", formats: ["raw", "qcow2", "qcow2-zlib"] },
  al8: {
    arch: "aarch64",
    el: "8",
    release: "8.10",
    rootfs: "xfs",
    formats: ["qcow2-zlib"],
    packages: "realistic",
    imageType: "oci",
  },
  al10v2: { arch: "x86_64_v2", el: "10", release: "10.1", rootfs: "xfs", formats: ["qcow2-zstd"] },
  al9ext4: { arch: "x86_64", el: "9", release: "9.6", rootfs: "ext4", formats: ["raw"], diskSize: "4G" },
  kitten: { arch: "x86_64", el: "10-kitten", release: "10", rootfs: "xfs", formats: ["qcow2"] },
  wrongArch: {
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "xfs",
    formats: ["raw"],
    releasePackageArch: "aarch64",
  },
  noReleaseFile: {
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "ext4",
    formats: ["raw"],
    releaseFile: null,
  },
  osMismatch: {
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "ext4",
    formats: ["raw"],
    osRelease: { ID: "rocky", VERSION_ID: "9.5" },
  },
  noOsRelease: {
    arch: "aarch64",
    el: "9",
    release: "9.6",
    rootfs: "ext4",
    formats: ["raw"],
    osRelease: null,
  },
  /** The disk is the root filesystem: for bare-filesystem reads, rpmdb damage and the fuzz test. */
  bare: {
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "ext4",
    formats: ["raw"],
    layout: "bare",
    diskSize: "1G",
  },
  bareBdb: {
    arch: "aarch64",
    el: "8",
    release: "8.10",
    rootfs: "ext4",
    formats: ["raw"],
    layout: "bare",
    diskSize: "1G",
  },
} satisfies Record<string, ImageSpec>;

export type SpecName = keyof typeof SPECS;

export function image(name: SpecName): Promise<BuiltImage> {
  return buildImage(SPECS[name] as ImageSpec);
}

/** The seed's list file as `rpm -qa --qf '%{NAME}\n' | LC_ALL=C sort` wrote it, from imagegen's oracle. */
export function expectedListFile(img: BuiltImage): string {
  return img.expected.packageNames.map((n) => `${n}\n`).join("");
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `inspect-test-${prefix}-`));
}

export function sh(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
}

/** Lines sorted by the real `sort` in the C locale. */
export function sortC(lines: readonly string[]): string[] {
  const r = spawnSync("sort", [], {
    input: lines.map((l) => `${l}\n`).join(""),
    env: { LC_ALL: "C" },
    encoding: "utf8",
  });
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** A writable sparse copy of an image's raw file. */
export function copyRaw(img: BuiltImage, dir: string, name = "disk.raw"): string {
  const out = join(dir, name);
  sh("cp", ["--sparse=always", img.paths.raw!, out]);
  return out;
}

/** debugfs -w on an ext4 image (bare layout): remove or replace files inside it. */
export function debugfsWrite(img: string, request: string): void {
  execFileSync("debugfs", ["-w", "-R", request, img], { stdio: "ignore" });
}

/** Physical byte ranges of a file in a bare ext4 image, from `debugfs -R 'blocks PATH'`. */
export function ext4FileBlocks(img: string, path: string): { offset: number; length: number }[] {
  const blockSize = Number(/Block size:\s+(\d+)/.exec(sh("dumpe2fs", ["-h", img]))![1]);
  const size = Number(/Size: (\d+)/.exec(sh("debugfs", ["-R", `stat ${path}`, img]))![1]);
  const blocks = sh("debugfs", ["-R", `blocks ${path}`, img])
    .trim()
    .split(/\s+/)
    .map(Number);
  return blocks.map((b, i) => ({
    offset: b * blockSize,
    length: Math.min(blockSize, size - i * blockSize),
  }));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
