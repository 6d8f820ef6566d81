// Real Packer 1.6.6 + QEMU (TCG) builds of the demo template: the guest's change is in the compressed image,
// the rest of the base image is intact, and a failing or panicking guest fails the build on shutdown_timeout.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../imagegen/index.js";
import { sha256File } from "../../src/files.js";
import { openImageRoot } from "../../src/inspect/root.js";
import { resolve } from "../../src/resolve/index.js";
import { DEMO_BASE_SPEC } from "../fixtures/busybox-leg/lib/base-image.js";
import { type PreparedDemo, prepareDemo, SERIAL_LOG } from "../fixtures/busybox-leg/lib/prepare.js";
import { extractRange, sgdiskPartitions, xfsReadFile } from "../imagegen/oracles.js";
import {
  isRoot,
  kernelMissing,
  listeningTcpPorts,
  missingTools,
  packerBuild,
  processesMentioning,
  QEMU,
  type ToolRun,
  templateCopy,
} from "./helpers.js";

const skip =
  missingTools([
    "packer",
    QEMU,
    "qemu-img",
    "modprobe",
    "/bin/busybox",
    "mkfs.xfs",
    "sgdisk",
    "rpm",
    "xfs_db",
  ]) ??
  kernelMissing() ??
  (isRoot() ? null : "needs root (imagegen's rpm --root, Debian's root-only kernel image)");

const STAMP = "20260220143000";
const leg = resolve({ type: "gencloud", variant: "9", arch: "x86_64", release: "9.6", timestamp: STAMP });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A template copy prepared the way run-demo.ts prepares examples/demo. */
async function preparedCopy(name: string): Promise<{ dir: string; prepared: PreparedDemo }> {
  const dir = templateCopy(name);
  dirs.push(dir);
  const prepared = await prepareDemo({ dir, buildStamp: STAMP, accelerator: "tcg" });
  return { dir, prepared };
}

function isQemu(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("qemu-system");
  } catch {
    return false; // gone meanwhile
  }
}

/** Files matching the resolver's output mask (one `*` in the file name) in `dir`. */
function maskMatches(dir: string, mask: string): string[] {
  const outDir = join(dir, dirname(mask));
  if (!existsSync(outDir)) return [];
  const [head, tail] = basename(mask).split("*") as [string, string];
  return readdirSync(outDir)
    .filter((n) => n.startsWith(head) && n.endsWith(tail) && n.length >= head.length + tail.length)
    .map((n) => join(outDir, n));
}

describe.skipIf(skip)(`demo template, real Packer build${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string;
  let prepared: PreparedDemo;
  let build: ToolRun;
  let image: string;

  let qemuSeen = 0;
  const qemuListened = new Set<number>();

  beforeAll(async () => {
    ({ dir, prepared } = await preparedCopy("ok"));
    // Watch the build's QEMU (its command line names the initrd in `dir`) for listening sockets.
    const watch = setInterval(() => {
      for (const pid of processesMentioning(dir)) {
        if (!isQemu(pid)) continue;
        qemuSeen++;
        for (const port of listeningTcpPorts(pid)) qemuListened.add(port);
      }
    }, 50);
    try {
      build = await packerBuild(dir);
    } finally {
      clearInterval(watch);
    }
    console.log(`packer build (TCG): ${build.seconds.toFixed(1)} s`);
    image = maskMatches(dir, leg.outputMask)[0] ?? "";
  });

  it("runs QEMU without a VNC server: no TCP port for concurrent builds to race for", () => {
    // Packer 1.6.6 picks a VNC port in 5900-6000 and locks it only within its own cache directory, so two
    // builds with different caches could both pick one port and one QEMU would fail to start.
    expect(qemuSeen).toBeGreaterThan(0);
    expect([...qemuListened]).toEqual([]);
  });

  it("succeeds and leaves exactly one image matching the leg's output mask", () => {
    expect(build.code, build.output).toBe(0);
    expect(maskMatches(dir, leg.outputMask)).toEqual([
      join(
        dir,
        `output-almalinux-9-gencloud-x86_64/AlmaLinux-9-GenericCloud-9.6-${STAMP.slice(0, 8)}.x86_64.qcow2`,
      ),
    ]);
  });

  it("is a compressed qcow2 of the base image's size, consistent per qemu-img check", () => {
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", image], { encoding: "utf8" }));
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBe(prepared.base.image.diskBytes); // skip_resize_disk: no growth to 40960M
    const check = JSON.parse(
      execFileSync("qemu-img", ["check", "--output=json", image], { encoding: "utf8" }),
    );
    expect(check["check-errors"]).toBe(0);
    expect(check.corruptions ?? 0).toBe(0);
    expect(check["compressed-clusters"] / check["allocated-clusters"]).toBeGreaterThan(0.5);
    const base = JSON.parse(
      execFileSync("qemu-img", ["check", "--output=json", prepared.base.path], { encoding: "utf8" }),
    );
    expect(base["compressed-clusters"] ?? 0).toBe(0);
  });

  it("holds the guest's build stamp and motd, read with the project's reader", async () => {
    const root = await openImageRoot(image, { expectedRootPartition: leg.rootPartition });
    try {
      expect(root.rootPartition).toBe(4);
      expect((await root.paths.readFile("/etc/cloud-images-build-stamp")).toString()).toBe(`${STAMP}\n`);
      expect((await root.paths.readFile("/etc/motd")).toString()).toBe(
        `AlmaLinux demo image, built by cloud-images at ${STAMP}\n`,
      );
    } finally {
      await root.close();
    }
  });

  it("leaves the rest of the base image intact: release files and rpm database byte for byte", async () => {
    const built = prepared.base.image;
    const root = await openImageRoot(image);
    try {
      expect((await root.paths.readFile("/etc/almalinux-release")).toString()).toBe(
        built.expected.releaseFileContent,
      );
      expect((await root.paths.readFile("/etc/os-release")).toString()).toBe(built.expected.osRelease);
      for (const name of readdirSync(built.rpmdbDir)) {
        const inImage = await root.paths.readFile(`${built.expected.rpmdbPath}/${name}`);
        expect(inImage.equals(readFileSync(join(built.rpmdbDir, name))), name).toBe(true);
      }
    } finally {
      await root.close();
    }
  });

  it("has a root filesystem that xfs_repair accepts and xfs_db reads the same stamp from", () => {
    const raw = join(dir, "disk.raw");
    execFileSync("qemu-img", ["convert", "-O", "raw", image, raw]);
    const p4 = sgdiskPartitions(raw).find((p) => p.number === 4)!;
    const part = join(dir, "p4.img");
    extractRange(raw, p4.firstSector * 512, (p4.lastSector - p4.firstSector + 1) * 512, part);
    rmSync(raw);
    execFileSync("xfs_repair", ["-n", "-f", part], { stdio: "pipe" });
    expect(xfsReadFile(part, "/etc/cloud-images-build-stamp").toString()).toBe(`${STAMP}\n`);
  });

  it("leaves the base image untouched and logs the guest's success on the serial console", async () => {
    expect(await sha256File(prepared.base.path)).toBe(prepared.base.sha256);
    const serial = readFileSync(join(dir, SERIAL_LOG), "utf8");
    expect(serial).toContain(`CLOUD-IMAGES-GUEST-DONE stamp=${STAMP}`);
    expect(serial).not.toContain("CLOUD-IMAGES-GUEST-FAILED");
  });

  it("builds from the same base spec run-demo.ts uses", async () => {
    const again = await buildImage(DEMO_BASE_SPEC);
    expect(again.dir).toBe(prepared.base.image.dir);
  });
});

describe.skipIf(skip).concurrent(`demo template, failing guests${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const timeout = ["-var", "shutdown_timeout=30s"];

  it("fails the build on shutdown_timeout when the guest's /init fails", async () => {
    const { dir } = await preparedCopy("fail");
    const r = await packerBuild(
      dir,
      [...timeout, "-var", "extra_kernel_args=cloud_images.fail=mount"],
      180_000,
    );
    console.log(`failing guest: packer exited ${r.code} after ${r.seconds.toFixed(1)} s`);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Failed to shutdown/);
    expect(r.seconds).toBeLessThan(120);
    expect(maskMatches(dir, leg.outputMask)).toEqual([]);
    expect(readFileSync(join(dir, SERIAL_LOG), "utf8")).toContain("CLOUD-IMAGES-GUEST-FAILED: mount");
    expect(processesMentioning(dir)).toEqual([]);
  });

  it("fails the build when the guest kernel panics (panic=0: no silent poweroff)", async () => {
    const { dir } = await preparedCopy("panic");
    const r = await packerBuild(dir, [...timeout, "-var", "extra_kernel_args=rdinit=/no-such-init"], 180_000);
    console.log(`panicking guest: packer exited ${r.code} after ${r.seconds.toFixed(1)} s`);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Failed to shutdown/);
    expect(maskMatches(dir, leg.outputMask)).toEqual([]);
    expect(readFileSync(join(dir, SERIAL_LOG), "utf8")).toMatch(/Kernel panic/);
    expect(processesMentioning(dir)).toEqual([]);
  });
});
