// AlmaLinux 9 x86_64, XFS root, raw + qcow2, default 10 GiB: layout, ESP, /boot, root tree and rpmdb,
// each checked with sgdisk, qemu-img, mtools, xfs_db and rpm.
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
  xfsInode,
  xfsLs,
  xfsReadFile,
  xfsSymlink,
} from "./oracles.js";

const SMALL = new URL("../data/packages/small.txt", import.meta.url).pathname;
let img: BuiltImage;
let tmp: string;
let root: string;
let boot: string;

beforeAll(async () => {
  img = await buildImage({
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "xfs",
    formats: ["raw", "qcow2"],
  });
  tmp = tempDir("al9");
  const rows = sgdiskPartitions(img.paths.raw!);
  const part = (n: number) => rows.find((r) => r.number === n)!;
  root = join(tmp, "root.img");
  boot = join(tmp, "boot.img");
  // from the qcow2, so the qcow2's contents are what gets checked
  for (const [n, out] of [
    [4, root],
    [3, boot],
  ] as const) {
    extractRange(
      img.paths.qcow2!,
      part(n).firstSector * 512,
      (part(n).lastSector - part(n).firstSector + 1) * 512,
      out,
    );
  }
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("AlmaLinux 9 x86_64 XFS image", () => {
  it("has the AlmaLinux x86_64 GPT layout (sgdisk)", () => {
    const rows = sgdiskPartitions(img.paths.raw!);
    expect(rows.map((r) => [r.number, r.code, r.firstSector, r.lastSector, r.name])).toEqual([
      [1, "EF02", 2048, 4095, "biosboot"],
      [2, "EF00", 4096, 413695, "EFI System Partition"],
      [3, "8300", 413696, 2510847, "boot"],
      [4, "8300", 2510848, 20971486, "root"],
    ]);
    expect(img.rootPartition).toBe(4);
    expect(img.partitions.map((p) => [p.number, p.start / 512, p.size / 512, p.fs])).toEqual(
      rows.map((r) => [
        r.number,
        r.firstSector,
        r.lastSector - r.firstSector + 1,
        [null, "vfat", "xfs", "xfs"][r.number - 1],
      ]),
    );
  });

  it("is a sparse 10 GiB raw and an identical qcow2 (qemu-img)", () => {
    expect(qemuInfo(img.paths.raw!)).toMatchObject({ format: "raw", virtualSize: 10 * 1024 ** 3 });
    expect(qemuInfo(img.paths.qcow2!)).toMatchObject({ format: "qcow2", virtualSize: 10 * 1024 ** 3 });
    expect(sh("qemu-img", ["compare", img.paths.raw!, img.paths.qcow2!])).toContain("Images are identical");
    expect(statSync(img.paths.raw!).blocks * 512).toBeLessThan(128 * 1024 ** 2);
  });

  it("has a FAT ESP with shim and grub (mtools)", () => {
    const esp = `${img.paths.raw!}@@${4096 * 512}`;
    const env = { MTOOLS_SKIP_CHECK: "1" };
    const boots = sh("mdir", ["-b", "-i", esp, "::/EFI/BOOT"], env);
    expect(boots).toMatch(/BOOTX64\.EFI/);
    expect(sh("mdir", ["-b", "-i", esp, "::/EFI/almalinux"], env)).toMatch(/shimx64\.efi/);
    const cfg = sh("mtype", ["-i", esp, "::/EFI/almalinux/grub.cfg"], env);
    const bootUuid = xfsDb(boot, "sb 0", "p uuid").match(/uuid = (\S+)/)![1];
    expect(cfg).toContain(`--fs-uuid --set=dev ${bootUuid}`);
  });

  it("has an XFS /boot with a kernel and grub config (xfs_db)", () => {
    const names = xfsLs(boot, "/").map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining(["efi", "grub2", "loader", "vmlinuz-5.14.0-570.12.1.el9_6.x86_64"]),
    );
    expect(xfsReadFile(boot, "/grub2/grub.cfg").toString()).toContain("blscfg");
    expect(xfsDb(boot, "sb 0", "p fname")).toContain('fname = "boot');
  });

  it("has filesystems their own checkers find clean (xfs_repair -n, fsck.fat -n)", () => {
    expect(() => sh("xfs_repair", ["-n", root])).not.toThrow();
    expect(() => sh("xfs_repair", ["-n", boot])).not.toThrow();
    const esp = join(tmp, "esp.img");
    extractRange(img.paths.raw!, 4096 * 512, 409600 * 512, esp);
    expect(sh("fsck.fat", ["-n", esp])).toMatch(/files, \d+\/\d+ clusters/);
  });

  it("has an XFS v5 root with bigtime and inobtcount (as AlmaLinux 9's mkfs.xfs makes)", () => {
    const version = xfsDb(root, "version");
    expect(version).toMatch(/V5/);
    expect(version).toMatch(/BIGTIME/);
    expect(version).toMatch(/INOBTCNT/);
    expect(xfsDb(root, "sb 0", "p fname")).toContain('fname = "root');
  });

  it("has the release file, its symlinks and os-release", () => {
    const release = xfsReadFile(root, "/etc/almalinux-release").toString();
    expect(release).toBe("AlmaLinux release 9.6 (Sage Margay)\n");
    expect(img.expected.releaseFileContent).toBe(release);
    expect(xfsSymlink(root, "/etc/redhat-release")).toBe("almalinux-release");
    expect(xfsSymlink(root, "/etc/system-release")).toBe("almalinux-release");
    expect(xfsSymlink(root, "/etc/os-release")).toBe("../usr/lib/os-release");
    const osRelease = xfsReadFile(root, "/usr/lib/os-release").toString();
    expect(img.expected.osRelease).toBe(osRelease);
    expect(osRelease).toContain('\nID="almalinux"\n');
    expect(osRelease).toContain('\nVERSION_ID="9.6"\n');
    expect(osRelease).toContain('\nPLATFORM_ID="platform:el9"\n');
  });

  it("has usr-merge, relative and absolute symlinks", () => {
    expect(xfsSymlink(root, "/bin")).toBe("usr/bin");
    expect(xfsSymlink(root, "/lib64")).toBe("usr/lib64");
    expect(xfsSymlink(root, "/etc/systemd/system/default.target")).toBe(
      "/usr/lib/systemd/system/multi-user.target",
    );
    expect(xfsSymlink(root, "/etc/fixture.d/chain-1")).toBe("chain-2");
    // 291 bytes: still inline (local) in a 512-byte inode
    expect(xfsInode(root, "/etc/fixture.d/long-link", "core.format", "core.size")).toEqual({
      "core.format": "1 (local)",
      "core.size": "291",
    });
    expect(xfsSymlink(root, "/etc/fixture.d/long-link")).toBe(`${"./".repeat(140)}file-2.conf`);
  });

  it("has directories in more than the short form", () => {
    expect(xfsLs(root, "/etc/fixture.d").length).toBe(400 + 4);
    expect(xfsInode(root, "/etc/fixture.d", "core.format")["core.format"]).toBe("2 (extents)");
    const mods = "/usr/lib/modules/5.14.0-570.12.1.el9_6.x86_64/kernel/drivers/fixture";
    expect(xfsLs(root, mods).length).toBe(3000);
    expect(xfsInode(root, mods, "core.format")["core.format"]).toBe("3 (btree)");
    expect(xfsInode(root, "/etc/ssh", "core.format")["core.format"]).toBe("1 (local)");
  });

  it("has AlmaLinux's modes, the sticky bit on /tmp included", () => {
    expect(xfsInode(root, "/tmp", "core.mode")["core.mode"]).toBe("041777");
    expect(xfsInode(root, "/var/tmp", "core.mode")["core.mode"]).toBe("041777");
    expect(xfsInode(root, "/root", "core.mode")["core.mode"]).toBe("040550");
    expect(xfsInode(root, "/etc/shadow", "core.mode")["core.mode"]).toBe("0100000");
  });

  it("holds an rpm database that rpm reads as the small list plus the release package and the key", () => {
    const dir = join(tmp, "db");
    sh("mkdir", ["-p", dir]);
    expect(xfsLs(root, "/var/lib/rpm").map((e) => e.name)).toContain("rpmdb.sqlite");
    writeFileSync(join(dir, "rpmdb.sqlite"), xfsReadFile(root, "/var/lib/rpm/rpmdb.sqlite"));
    const names = rpmNames(dir, false);
    const wanted = sortC([
      ...new Set([
        ...readFileSync(SMALL, "utf8").split("\n").filter(Boolean),
        "almalinux-release",
        "gpg-pubkey",
      ]),
    ]);
    expect(names).toEqual(wanted);
    expect(img.expected.packageNames).toEqual(names);
    expect(img.expected.packagesNevra).toEqual(rpmNevra(dir, false));
    expect(rpmQuery(dir, false, "-q", "--qf", "%{ARCH} %{VERSION}-%{RELEASE}", "almalinux-release")).toBe(
      "x86_64 9.6-1.el9",
    );
    expect(img.expected.releasePackageArch).toBe("x86_64");
    expect(rpmQuery(dir, false, "-qf", "/etc/almalinux-release").trim()).toMatch(
      /^almalinux-release-9\.6-1\.el9\.x86_64$/,
    );
    expect(rpmQuery(dir, false, "-q", "--qf", "%{EPOCH}", "shadow-utils")).toBe("2");
  });

  it("keeps the database as rpm leaves it after a clean exit: no lock, no -shm, empty WAL at most", () => {
    const names = xfsLs(root, "/var/lib/rpm").map((e) => e.name);
    expect(names).not.toContain(".rpm.lock");
    expect(names).not.toContain("rpmdb.sqlite-shm");
    const db = xfsReadFile(root, "/var/lib/rpm/rpmdb.sqlite");
    expect(db.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
    expect([db[18], db[19]]).toEqual([2, 2]); // WAL mode
  });
});
