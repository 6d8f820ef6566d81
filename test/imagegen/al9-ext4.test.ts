// AlmaLinux 9 x86_64 with an ext4 root (gencloud_ext4), raw: checked with sgdisk, dumpe2fs and debugfs.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import {
  debugfs,
  ext4ReadFile,
  extractRange,
  rpmNames,
  rpmQuery,
  sgdiskPartitions,
  sh,
  tempDir,
} from "./oracles.js";

let img: BuiltImage;
let tmp: string;
let root: string;

beforeAll(async () => {
  img = await buildImage({
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "ext4",
    formats: ["raw"],
    diskSize: "4G",
  });
  tmp = tempDir("al9-ext4");
  const p4 = sgdiskPartitions(img.paths.raw!).find((r) => r.number === 4)!;
  root = join(tmp, "root.img");
  extractRange(img.paths.raw!, p4.firstSector * 512, (p4.lastSector - p4.firstSector + 1) * 512, root);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("AlmaLinux 9 x86_64 ext4 image", () => {
  it("has the x86_64 layout on a 4 GiB disk, root running to the last usable sector", () => {
    const rows = sgdiskPartitions(img.paths.raw!);
    expect(rows.map((r) => [r.number, r.code, r.firstSector, r.lastSector])).toEqual([
      [1, "EF02", 2048, 4095],
      [2, "EF00", 4096, 413695],
      [3, "8300", 413696, 2510847],
      [4, "8300", 2510848, 4 * 2048 * 1024 - 34],
    ]);
    expect(img.partitions.find((p) => p.number === 4)!.fs).toBe("ext4");
  });

  it("is an ext4 filesystem filling the partition, labelled root, with the fstab's UUID", () => {
    const header = sh("dumpe2fs", ["-h", root]);
    expect(header).toMatch(/Filesystem volume name:\s+root/);
    expect(header).toMatch(/Filesystem features:.*\bextent\b.*\bmetadata_csum\b/);
    const blocks = Number(/Block count:\s+(\d+)/.exec(header)![1]);
    const blockSize = Number(/Block size:\s+(\d+)/.exec(header)![1]);
    const p4 = img.partitions.find((p) => p.number === 4)!;
    expect(blocks * blockSize).toBe(Math.floor(p4.size / blockSize) * blockSize);
    const uuid = /Filesystem UUID:\s+(\S+)/.exec(header)![1]!;
    expect(ext4ReadFile(root, "/etc/fstab", tmp).toString()).toContain(`UUID=${uuid} /`);
  });

  it("is clean by e2fsck -fn", () => {
    expect(() => sh("e2fsck", ["-f", "-n", root])).not.toThrow();
  });

  it("holds the release file, symlinks and os-release (debugfs)", () => {
    expect(ext4ReadFile(root, "/etc/almalinux-release", tmp).toString()).toBe(
      "AlmaLinux release 9.6 (Sage Margay)\n",
    );
    expect(debugfs(root, "stat /etc/os-release")).toMatch(/Fast link dest: "\.\.\/usr\/lib\/os-release"/);
    expect(debugfs(root, "stat /etc/redhat-release")).toMatch(/Fast link dest: "almalinux-release"/);
    const os = ext4ReadFile(root, "/usr/lib/os-release", tmp).toString();
    expect(os).toBe(img.expected.osRelease);
    expect(os).toContain('\nVERSION_ID="9.6"\n');
  });

  it("has an htree-indexed big directory and a slow (block) symlink", () => {
    expect(debugfs(root, "stat /etc/fixture.d")).toMatch(/Flags: 0x\w*1\w{3}\b/); // EXT4_INDEX_FL 0x1000
    expect(debugfs(root, "htree /etc/fixture.d")).toMatch(/Root node dump/);
    const long = debugfs(root, "stat /etc/fixture.d/long-link");
    expect(long).not.toMatch(/Fast link dest/);
    expect(long).toMatch(/Size: 291/);
    expect(debugfs(root, "stat /tmp")).toMatch(/Mode:\s+01777/);
  });

  it("holds an rpm database rpm reads like the builder's oracle", () => {
    const db = join(tmp, "db");
    sh("mkdir", ["-p", db]);
    debugfs(root, `dump /var/lib/rpm/rpmdb.sqlite ${join(db, "rpmdb.sqlite")}`);
    expect(rpmNames(db, false)).toEqual(img.expected.packageNames);
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "almalinux-release")).toBe("x86_64");
  });
});
