// The KVM probe boots the real demo guest under QEMU: the marker must be seen, and a guest that never
// answers (or a QEMU that cannot start) must give up in bounded time, never hang.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInitramfs } from "../fixtures/busybox-leg/lib/initramfs.js";
import { chooseAccelerator, probeBoot } from "../fixtures/busybox-leg/lib/kvm-probe.js";
import { isRoot, kernelMissing, missingTools, processesMentioning, QEMU } from "./helpers.js";

const skip =
  missingTools([QEMU, "modprobe", "/bin/busybox"]) ??
  kernelMissing() ??
  (isRoot() ? null : "Debian's kernel image is readable by root only");
const tmp = mkdtempSync(join(tmpdir(), "demo-probe-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(skip)(`KVM probe${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let kernel: string;
  let initrd: string;

  beforeAll(async () => {
    const built = await buildInitramfs();
    kernel = built.kernel.path;
    initrd = built.path;
  });

  it("sees the guest's marker when the guest boots (TCG)", async () => {
    const r = await probeBoot({ qemuBinary: QEMU, kernel, initrd, accelerator: "tcg", timeoutMs: 60_000 });
    expect(r).toMatchObject({ ok: true });
    console.log(`probe boot under TCG: ${r.seconds.toFixed(1)} s`);
  });

  it("gives up at the time limit when the guest never answers, and kills QEMU", async () => {
    // no such rdinit: the kernel panics, and with panic=0 it stays there
    const r = await probeBoot({
      qemuBinary: QEMU,
      kernel,
      initrd,
      accelerator: "tcg",
      timeoutMs: 3_000,
      extraKernelArgs: "rdinit=/no-such-init",
    });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/no probe marker after 3 s/);
    expect(r.seconds).toBeLessThan(6);
    await new Promise((res) => setTimeout(res, 300));
    expect(processesMentioning("rdinit=/no-such-init")).toEqual([]);
  });

  it("reports a QEMU that cannot start, with its message", async () => {
    const r = await probeBoot({ qemuBinary: join(tmp, "no-qemu"), kernel, initrd, accelerator: "tcg" });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/cannot run .*no-qemu/);
  });

  it("chooses TCG with a warning when the KVM device does not exist", async () => {
    const choice = await chooseAccelerator({ qemuBinary: QEMU, kernel, initrd, kvmDevice: join(tmp, "kvm") });
    expect(choice).toMatchObject({
      accelerator: "tcg",
      warning: expect.stringMatching(/does not exist: using TCG/),
    });
  });

  it.skipIf(existsSync("/dev/kvm"))(
    "falls back to TCG when the KVM probe boot fails (no /dev/kvm here)",
    async () => {
      const device = join(tmp, "fake-kvm");
      writeFileSync(device, "");
      const choice = await chooseAccelerator({
        qemuBinary: QEMU,
        kernel,
        initrd,
        kvmDevice: device,
        timeoutMs: 20_000,
      });
      expect(choice.accelerator).toBe("tcg");
      expect(choice.warning).toMatch(/KVM probe boot failed \(QEMU ended .*\): using TCG/);
      expect(choice.probe!.seconds).toBeLessThan(20);
    },
  );
});
