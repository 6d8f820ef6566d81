// AlmaLinux 8 aarch64, XFS without bigtime/inobtcount, the real 8.10 package list in a Berkeley DB
// rpmdb, compressed qcow2 (zlib): checked with sgdisk, qemu-img, xfs_db, db5.3_stat and rpm (bdb_ro).
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import {
  extractRange,
  qemuInfo,
  rpmNames,
  rpmNevra,
  rpmQuery,
  sgdiskPartitions,
  sh,
  sortC,
  tempDir,
  xfsDb,
  xfsLs,
  xfsReadFile,
} from "./oracles.js";

const LIST = new URL("../data/packages/AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt", import.meta.url)
  .pathname;
let img: BuiltImage;
let tmp: string;
let raw: string;
let root: string;
let db: string;

beforeAll(async () => {
  img = await buildImage({
    arch: "aarch64",
    el: "8",
    release: "8.10",
    rootfs: "xfs",
    formats: ["qcow2-zlib"],
    packages: "realistic",
    imageType: "oci",
  });
  tmp = tempDir("al8");
  root = join(tmp, "root.img");
  // qemu-img decompresses the whole disk into a sparse raw file (fast: it skips unallocated clusters)
  raw = join(tmp, "disk.raw");
  sh("qemu-img", ["convert", "-O", "raw", img.paths["qcow2-zlib"]!, raw]);
  const p3 = sgdiskPartitions(raw).find((r) => r.number === 3)!;
  extractRange(raw, p3.firstSector * 512, (p3.lastSector - p3.firstSector + 1) * 512, root);
  db = join(tmp, "db");
  sh("mkdir", ["-p", db]);
  for (const e of xfsLs(root, "/var/lib/rpm")) {
    if (e.type === "regular") writeFileSync(join(db, e.name), xfsReadFile(root, `/var/lib/rpm/${e.name}`));
  }
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("AlmaLinux 8 aarch64 image with a Berkeley DB rpmdb", () => {
  it("is a zlib-compressed qcow2 in the aarch64 GPT layout", () => {
    expect(qemuInfo(img.paths["qcow2-zlib"]!)).toMatchObject({ format: "qcow2", compressionType: "zlib" });
    expect(sh("qemu-img", ["check", img.paths["qcow2-zlib"]!])).toContain("No errors were found");
    expect(sgdiskPartitions(raw).map((r) => [r.number, r.code, r.firstSector, r.name])).toEqual([
      [1, "EF00", 2048, "EFI System Partition"],
      [2, "8300", 411648, "boot"],
      [3, "8300", 2508800, "root"],
    ]);
    const env = { MTOOLS_SKIP_CHECK: "1" };
    expect(sh("mdir", ["-b", "-i", `${raw}@@${2048 * 512}`, "::/EFI/BOOT"], env)).toMatch(/BOOTAA64\.EFI/);
    expect(img.rootPartition).toBe(3);
  });

  it("has an XFS root as AlmaLinux 8 makes it: no bigtime, no inobtcount", () => {
    const version = xfsDb(root, "version");
    expect(version).toMatch(/V5/);
    expect(version).not.toMatch(/BIGTIME/);
    expect(version).not.toMatch(/INOBTCNT/);
    expect(() => sh("xfs_repair", ["-n", root])).not.toThrow();
  });

  it("has AlmaLinux 8's release file", () => {
    expect(xfsReadFile(root, "/etc/almalinux-release").toString()).toBe(
      "AlmaLinux release 8.10 (Cerulean Leopard)\n",
    );
    expect(xfsReadFile(root, "/usr/lib/os-release").toString()).toContain('\nPLATFORM_ID="platform:el8"\n');
  });

  it("keeps the rpmdb as Berkeley DB files in /var/lib/rpm, no sqlite", () => {
    const names = xfsLs(root, "/var/lib/rpm").map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["Packages", "Name", "Basenames", "Providename"]));
    expect(names.some((n) => n.startsWith("rpmdb.sqlite"))).toBe(false);
    const stat = sh("db5.3_stat", ["-d", join(db, "Packages")]);
    expect(stat).toMatch(/Hash magic number/);
    expect(stat).toMatch(/Little-endian/);
    expect(sh("db5.3_stat", ["-d", join(db, "Name")])).toMatch(/Btree magic number/);
    // real-size headers: a real AlmaLinux 8 image's Packages is tens of MiB
    expect(statSync(join(db, "Packages")).size).toBeGreaterThanOrEqual(8 * 1024 * 1024);
  });

  it("holds the real 8.10 list (aarch64 boot packages swapped) as rpm reads it with bdb_ro", () => {
    const names = rpmNames(db, true);
    // the list, unique (one gpg-pubkey: the imagegen key); x86-only boot packages dropped, x64 EFI ones as aa64
    const dropped = new Set(["grub2-pc", "grub2-pc-modules", "microcode_ctl"]);
    const listed = readFileSync(LIST, "utf8")
      .split("\n")
      .filter((n) => n !== "" && !dropped.has(n))
      .map((n) => (n === "shim-x64" ? "shim-aa64" : n === "grub2-efi-x64" ? "grub2-efi-aa64" : n));
    expect(names).toEqual(sortC([...new Set(listed)]));
    expect(names.length).toBe(435);
    expect(img.expected.packageNames).toEqual(names);
    expect(img.expected.packagesNevra).toEqual(rpmNevra(db, true));
  });

  it("answers name and file queries, which need the Name and Basenames indexes", () => {
    expect(rpmQuery(db, true, "-q", "--qf", "%{ARCH}", "almalinux-release")).toBe("aarch64");
    expect(img.expected.releasePackageArch).toBe("aarch64");
    expect(rpmQuery(db, true, "-qf", "/etc/almalinux-release").trim()).toBe(
      "almalinux-release-8.10-1.el8.aarch64",
    );
    expect(rpmQuery(db, true, "-q", "--qf", "%{EPOCH}:%{ARCH}", "tzdata")).toBe("(none):noarch");
    expect(rpmQuery(db, true, "-q", "--qf", "%{EPOCH}", "NetworkManager")).toBe("1");
  });
});
