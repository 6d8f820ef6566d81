// The demo guest's initramfs, listed and unpacked by GNU cpio and compared with the host files it came from.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX,
  buildInitramfs,
  INIT_SCRIPT,
  type Initramfs,
  readModule,
} from "../fixtures/busybox-leg/lib/initramfs.js";
import { GUEST_MODULES } from "../fixtures/busybox-leg/lib/kernel.js";
import { kernelMissing, missingTools } from "./helpers.js";

const skip = missingTools(["cpio", "modprobe", "gzip", BUSYBOX]) ?? kernelMissing();
const tmp = mkdtempSync(join(tmpdir(), "demo-initramfs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** modprobe's own answer: the module files to load, in order, each once. */
function modprobeFiles(version: string): string[] {
  const files: string[] = [];
  for (const m of GUEST_MODULES) {
    const out = execFileSync("modprobe", ["-S", version, "--show-depends", m], { encoding: "utf8" });
    for (const line of out.split("\n")) {
      const path = line.startsWith("insmod ") ? line.split(/\s+/)[1]! : null;
      if (path && !files.includes(path)) files.push(path);
    }
  }
  return files;
}

describe.skipIf(skip)(`demo initramfs${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let built: Initramfs;
  let listing: string[];
  let root: string;

  beforeAll(async () => {
    built = await buildInitramfs({ cacheDir: join(tmp, "cache") });
    const archive = execFileSync("gzip", ["-dc", built.path], { maxBuffer: 256 << 20 });
    listing = execFileSync("cpio", ["-it", "--quiet"], { input: archive, encoding: "utf8" })
      .trim()
      .split("\n");
    root = join(tmp, "root");
    execFileSync("mkdir", ["-p", root]);
    // everything but the device node (extracting that needs root; its listing is checked below)
    execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames", "--nonmatching", "dev/console"], {
      input: archive,
      cwd: root,
    });
  });

  it("holds /init, busybox, the console device and the module directory", () => {
    for (const path of [
      "init",
      "bin/busybox",
      "bin/sh",
      "dev/console",
      "lib/modules/order",
      "proc",
      "sys",
      "mnt",
    ]) {
      expect(listing).toContain(path);
    }
    const archive = execFileSync("gzip", ["-dc", built.path], { maxBuffer: 256 << 20 });
    const verbose = execFileSync("cpio", ["-itv", "--quiet"], { input: archive, encoding: "utf8" });
    expect(verbose).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    expect(verbose).toMatch(/^-rwxr-xr-x .* init$/m);
  });

  it("has guest/init as /init and the host's static busybox, byte for byte", () => {
    expect(readFileSync(join(root, "init"), "utf8")).toBe(readFileSync(INIT_SCRIPT, "utf8"));
    expect(sha256(join(root, "bin/busybox"))).toBe(sha256(BUSYBOX));
    expect(statSync(join(root, "init")).mode & 0o777).toBe(0o755);
    expect(execFileSync("file", ["-b", join(root, "bin/busybox")], { encoding: "utf8" })).toMatch(
      /statically linked/,
    );
  });

  it("has every module modprobe loads for virtio_pci, virtio_blk, xfs and ext4, in modprobe's order", () => {
    const files = modprobeFiles(built.kernel.version);
    expect(files.length).toBeGreaterThanOrEqual(GUEST_MODULES.length);
    const names = files.map((f) => basename(f).replace(/\.(xz|zst|gz)$/, ""));
    expect(built.modules).toEqual(names);
    const order = readFileSync(join(root, "lib/modules/order"), "utf8").trim().split("\n");
    expect(order.map((l) => l.replace(/^\?/, ""))).toEqual(names);
    // only CPU-specific accelerations (arch/) may fail to load in a guest
    files.forEach((f, i) => {
      expect(order[i]!.startsWith("?"), f).toBe(f.includes("/kernel/arch/"));
    });
    for (const name of ["virtio_pci.ko", "virtio_blk.ko", "xfs.ko", "ext4.ko"]) expect(names).toContain(name);
    files.forEach((f, i) => {
      if (f.endsWith(".ko")) expect(sha256(join(root, "lib/modules", names[i]!)), f).toBe(sha256(f));
    });
  });

  it("comes from the cache the second time, and is rebuilt when the init script changes", async () => {
    const again = await buildInitramfs({ cacheDir: join(tmp, "cache") });
    expect(again).toMatchObject({ path: built.path, cached: true });
    const edited = join(tmp, "init");
    copyFileSync(INIT_SCRIPT, edited);
    writeFileSync(edited, `${readFileSync(edited, "utf8")}# edited\n`);
    const other = await buildInitramfs({ cacheDir: join(tmp, "cache"), initScript: edited });
    expect(other.cached).toBe(false);
    expect(other.path).not.toBe(built.path);
  });

  it("refuses a dynamically linked busybox", async () => {
    await expect(buildInitramfs({ cacheDir: join(tmp, "cache2"), busybox: "/bin/ls" })).rejects.toThrow(
      /not a static .*busybox-static/,
    );
  });

  it("decompresses .ko.gz, .ko.zst and .ko.xz modules (as newer Debian kernels ship them)", () => {
    const ko = modprobeFiles(built.kernel.version).find((f) => f.endsWith("/crc16.ko"));
    expect(ko, "crc16.ko among ext4's dependencies").toBeDefined();
    const plain = readFileSync(ko!);
    for (const [ext, tool] of [
      ["gz", "gzip"],
      ["zst", "zstd"],
      ["xz", "xz"],
    ] as const) {
      const packed = join(tmp, `crc16.ko.${ext}`);
      writeFileSync(packed, execFileSync(tool, ["-c", ko!]));
      expect(readModule(packed).equals(plain), ext).toBe(true);
    }
    writeFileSync(join(tmp, "m.ko.bz2"), "x");
    expect(() => readModule(join(tmp, "m.ko.bz2"))).toThrow(/unknown compression/);
  });
});
