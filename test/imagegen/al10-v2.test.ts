// AlmaLinux 10 x86_64_v2, XFS root, zstd-compressed qcow2, rpmdb under /usr/lib/sysimage/rpm with
// /var/lib/rpm a symlink to it; the release package's arch is x86_64_v2 (not x86_64).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import {
  extractRange,
  qemuInfo,
  rpmNames,
  rpmQuery,
  sgdiskPartitions,
  sh,
  tempDir,
  xfsDb,
  xfsLs,
  xfsReadFile,
  xfsSymlink,
} from "./oracles.js";

let img: BuiltImage;
let tmp: string;
let root: string;
let db: string;

beforeAll(async () => {
  img = await buildImage({
    arch: "x86_64_v2",
    el: "10",
    release: "10.1",
    rootfs: "xfs",
    formats: ["qcow2-zstd"],
  });
  tmp = tempDir("al10");
  const raw = join(tmp, "disk.raw");
  sh("qemu-img", ["convert", "-O", "raw", img.paths["qcow2-zstd"]!, raw]);
  const p4 = sgdiskPartitions(raw).find((r) => r.number === 4)!;
  root = join(tmp, "root.img");
  extractRange(raw, p4.firstSector * 512, (p4.lastSector - p4.firstSector + 1) * 512, root);
  db = join(tmp, "db");
  sh("mkdir", ["-p", db]);
  for (const e of xfsLs(root, "/usr/lib/sysimage/rpm")) {
    if (e.type === "regular")
      writeFileSync(join(db, e.name), xfsReadFile(root, `/usr/lib/sysimage/rpm/${e.name}`));
  }
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("AlmaLinux 10 x86_64_v2 image", () => {
  it("is a zstd-compressed qcow2 in the x86_64 layout", () => {
    expect(qemuInfo(img.paths["qcow2-zstd"]!)).toMatchObject({ format: "qcow2", compressionType: "zstd" });
    expect(img.partitions.map((p) => p.type)).toEqual(["EF02", "EF00", "8300", "8300"]);
    expect(img.rootPartition).toBe(4);
  });

  it("keeps the rpmdb in /usr/lib/sysimage/rpm with /var/lib/rpm pointing there", () => {
    expect(xfsSymlink(root, "/var/lib/rpm")).toBe("../../usr/lib/sysimage/rpm");
    expect(xfsLs(root, "/usr/lib/sysimage/rpm").map((e) => e.name)).toContain("rpmdb.sqlite");
    expect(img.expected.rpmdbPath).toBe("/usr/lib/sysimage/rpm");
  });

  it("has the release package built for x86_64_v2", () => {
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "almalinux-release")).toBe("x86_64_v2");
    expect(img.expected.releasePackageArch).toBe("x86_64_v2");
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "bash")).toBe("x86_64_v2");
    expect(rpmNames(db, false)).toEqual(img.expected.packageNames);
  });

  it("has AlmaLinux 10's release file and os-release", () => {
    expect(xfsReadFile(root, "/etc/almalinux-release").toString()).toBe(
      "AlmaLinux release 10.1 (Purple Lion)\n",
    );
    const osRelease = xfsReadFile(root, "/usr/lib/os-release").toString();
    expect(osRelease).toContain('\nVERSION_ID="10.1"\n');
    expect(osRelease).toContain('\nPLATFORM_ID="platform:el10"\n');
    expect(xfsDb(root, "version")).toMatch(/BIGTIME/);
    expect(() => sh("xfs_repair", ["-n", root])).not.toThrow();
  });
});
