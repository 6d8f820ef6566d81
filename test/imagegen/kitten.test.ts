// AlmaLinux Kitten 10 x86_64, XFS, qcow2: almalinux-kitten-release and Kitten's release strings.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import {
  extractRange,
  rpmNames,
  rpmQuery,
  sgdiskPartitions,
  sh,
  sortC,
  tempDir,
  xfsLs,
  xfsReadFile,
} from "./oracles.js";

const SMALL = new URL("../data/packages/small.txt", import.meta.url).pathname;
let img: BuiltImage;
let tmp: string;
let root: string;

beforeAll(async () => {
  img = await buildImage({
    arch: "x86_64",
    el: "10-kitten",
    release: "10",
    rootfs: "xfs",
    formats: ["qcow2"],
  });
  tmp = tempDir("kitten");
  const raw = join(tmp, "disk.raw");
  sh("qemu-img", ["convert", "-O", "raw", img.paths.qcow2!, raw]);
  const p4 = sgdiskPartitions(raw).find((r) => r.number === 4)!;
  root = join(tmp, "root.img");
  extractRange(raw, p4.firstSector * 512, (p4.lastSector - p4.firstSector + 1) * 512, root);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("AlmaLinux Kitten 10 image", () => {
  it("has Kitten's release file and os-release", () => {
    const release = xfsReadFile(root, "/etc/almalinux-release").toString();
    expect(release).toBe("AlmaLinux Kitten release 10 (Lion Cub)\n");
    expect(img.expected.releaseFileContent).toBe(release);
    const os = xfsReadFile(root, "/usr/lib/os-release").toString();
    expect(os).toMatch(/^NAME="AlmaLinux Kitten"\n/);
    expect(os).toContain('\nID="almalinux"\n');
    expect(os).toContain('\nVERSION_ID="10"\n');
  });

  it("installs almalinux-kitten-release and no almalinux-release", () => {
    const db = join(tmp, "db");
    sh("mkdir", ["-p", db]);
    for (const e of xfsLs(root, "/usr/lib/sysimage/rpm")) {
      if (e.type === "regular")
        writeFileSync(join(db, e.name), xfsReadFile(root, `/usr/lib/sysimage/rpm/${e.name}`));
    }
    const names = rpmNames(db, false);
    const small = readFileSync(SMALL, "utf8").split("\n").filter(Boolean);
    expect(names).toEqual(sortC([...small, "almalinux-kitten-release", "gpg-pubkey"]));
    expect(rpmQuery(db, false, "-q", "--qf", "%{VERSION} %{ARCH}", "almalinux-kitten-release")).toBe(
      "10 x86_64",
    );
    expect(img.expected.releasePackage).toBe("almalinux-kitten-release");
    expect(img.expected.packageNames).toEqual(names);
  });
});
