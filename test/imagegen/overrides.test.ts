// The knobs other tests use to make broken images: a bare filesystem (no partition table), a release
// package of the wrong arch, a changed or missing release file, no os-release, extra files, a moved rpmdb.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import {
  debugfs,
  ext4ReadFile,
  qemuInfo,
  rpmNames,
  rpmQuery,
  sh,
  tempDir,
  xfsLs,
  xfsReadFile,
} from "./oracles.js";

const BLOB = Buffer.from([0, 1, 2, 3, 254, 255, 0, 0, 7]);
let bare: BuiltImage;
let noRelease: BuiltImage;
let tmp: string;

beforeAll(async () => {
  tmp = tempDir("overrides");
  [bare, noRelease] = await Promise.all([
    buildImage({
      arch: "x86_64",
      el: "9",
      release: "9.5",
      rootfs: "ext4",
      formats: ["raw"],
      layout: "bare",
      diskSize: "1G",
      packages: ["bash", "coreutils", "openssl-libs"],
      releasePackageArch: "aarch64",
      releaseFile: "AlmaLinux release 9.4 (Seafoam Ocelot)\n",
      osRelease: { VERSION_ID: "9.4" },
      rpmdbPath: "/usr/lib/sysimage/rpm",
      extraFiles: { "/etc/motd": "hello\n", "/opt/data/blob.bin": BLOB },
    }),
    buildImage({
      arch: "aarch64",
      el: "9",
      release: "9.6",
      rootfs: "xfs",
      formats: ["raw"],
      layout: "bare",
      diskSize: "1G",
      packages: [],
      releaseFile: null,
      osRelease: null,
    }),
  ]);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("bare ext4 image with overrides", () => {
  it("is just the filesystem: no partition table", () => {
    expect(qemuInfo(bare.paths.raw!).virtualSize).toBe(1024 ** 3);
    expect(sh("blkid", ["-p", "-o", "export", bare.paths.raw!])).toMatch(/^TYPE=ext4$/m);
    expect(sh("sgdisk", ["-p", bare.paths.raw!])).not.toMatch(/^\s+1\s+\d+/m);
    expect(bare.rootPartition).toBeNull();
    expect(bare.partitions).toEqual([]);
  });

  it("has the overridden release file and os-release", () => {
    const img = bare.paths.raw!;
    const release = ext4ReadFile(img, "/etc/almalinux-release", tmp).toString();
    expect(release).toBe("AlmaLinux release 9.4 (Seafoam Ocelot)\n");
    expect(bare.expected.releaseFileContent).toBe(release);
    const os = ext4ReadFile(img, "/usr/lib/os-release", tmp).toString();
    expect(os).toContain('\nVERSION_ID="9.4"\n');
    expect(os).toContain('\nVERSION="9.5 (Sage Margay)"\n');
  });

  it("has the extra files, text and binary", () => {
    expect(ext4ReadFile(bare.paths.raw!, "/etc/motd", tmp).toString()).toBe("hello\n");
    expect(ext4ReadFile(bare.paths.raw!, "/opt/data/blob.bin", tmp).equals(BLOB)).toBe(true);
    expect(Buffer.isBuffer(bare.spec.extraFiles["/opt/data/blob.bin"])).toBe(true);
  });

  it("has an aarch64 release package in an x86_64 image, in /usr/lib/sysimage/rpm", () => {
    expect(debugfs(bare.paths.raw!, "stat /var/lib/rpm")).toMatch(
      /Fast link dest: "\.\.\/\.\.\/usr\/lib\/sysimage\/rpm"/,
    );
    const db = join(tmp, "db");
    sh("mkdir", ["-p", db]);
    debugfs(bare.paths.raw!, `dump /usr/lib/sysimage/rpm/rpmdb.sqlite ${join(db, "rpmdb.sqlite")}`);
    expect(rpmNames(db, false)).toEqual([
      "almalinux-release",
      "bash",
      "coreutils",
      "gpg-pubkey",
      "openssl-libs",
    ]);
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "almalinux-release")).toBe("aarch64");
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "bash")).toBe("x86_64");
    expect(bare.expected.releasePackageArch).toBe("aarch64");
    expect(bare.expected.packageNames).toEqual([
      "almalinux-release",
      "bash",
      "coreutils",
      "gpg-pubkey",
      "openssl-libs",
    ]);
  });
});

describe("bare XFS image without release files", () => {
  it("has no /etc/almalinux-release and no os-release, but the release package", () => {
    const img = noRelease.paths.raw!;
    const etc = xfsLs(img, "/etc").map((e) => e.name);
    expect(etc).not.toContain("almalinux-release");
    expect(etc).not.toContain("os-release");
    expect(etc).toContain("redhat-release"); // dangling, as on a broken image
    expect(xfsLs(img, "/usr/lib").map((e) => e.name)).not.toContain("os-release");
    expect(noRelease.expected.releaseFileContent).toBeNull();
    expect(noRelease.expected.osRelease).toBeNull();
    const db = join(tmp, "db2");
    sh("mkdir", ["-p", db]);
    writeFileSync(join(db, "rpmdb.sqlite"), xfsReadFile(img, "/var/lib/rpm/rpmdb.sqlite"));
    expect(rpmNames(db, false)).toEqual(["almalinux-release", "gpg-pubkey"]);
    expect(rpmQuery(db, false, "-q", "--qf", "%{ARCH}", "almalinux-release")).toBe("aarch64");
  });
});
