/**
 * KVM or TCG. `/dev/kvm` can exist and still not run guests (no access, a broken or paravirtual KVM), so
 * KVM is used only when a probe guest runs under it: a few instructions that print a marker on the serial
 * port and power the machine off, well under a second when KVM works. Otherwise TCG, with a warning. The
 * probe's CPU model is the real guest's: a nested KVM seen here runs QEMU's default model but aborts
 * QEMU with `-cpu host` (kvm_buf_set_msrs: an MSR the outer hypervisor refuses).
 */
import { access, constants, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { arch as hostArch, tmpdir } from "node:os";
import { join } from "node:path";
import type { Arch } from "../catalog/catalog.js";
import { runChild } from "../process/children.js";
import { type Accelerator, cpuModel } from "./machine.js";

export const PROBE_MARKER = "CLOUD-IMAGES-KVM-PROBE-OK";

export type KvmAccess = { usable: true } | { usable: false; reason: string };

export async function kvmAccess(device = "/dev/kvm"): Promise<KvmAccess> {
  try {
    await stat(device);
  } catch {
    return { usable: false, reason: `${device} does not exist (no KVM on this machine)` };
  }
  try {
    await access(device, constants.R_OK | constants.W_OK);
    return { usable: true };
  } catch {
    return {
      usable: false,
      reason:
        `no read/write access to ${device}: add yourself to the kvm group (sudo usermod -aG kvm $USER) or install ` +
        `the udev rule KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"`,
    };
  }
}

/**
 * x86 boot sector, real mode: DS=0, print the marker on COM1 (0x3f8), write 0 to the isa-debug-exit port
 * (0xf4; QEMU exits with status 1), halt.
 */
function x86BootSector(): Buffer {
  const code = Buffer.from([
    0x31,
    0xc0,
    0x8e,
    0xd8,
    0xfc, // xor ax,ax; mov ds,ax; cld
    0xba,
    0xf8,
    0x03, // mov dx,0x3f8
    0xbe,
    0x1c,
    0x7c, // mov si,0x7c1c (the marker, right after this code)
    0xac,
    0x84,
    0xc0,
    0x74,
    0x03,
    0xee,
    0xeb,
    0xf8, // next: lodsb; test al,al; jz done; out dx,al; jmp next
    0xba,
    0xf4,
    0x00,
    0xb0,
    0x00,
    0xee, // done: mov dx,0xf4; mov al,0; out dx,al
    0xf4,
    0xeb,
    0xfd, // hlt; jmp hlt
  ]);
  const sector = Buffer.alloc(512);
  code.copy(sector);
  Buffer.from(`${PROBE_MARKER}\r\n\0`, "latin1").copy(sector, code.length);
  sector.writeUInt16LE(0xaa55, 510);
  // SeaBIOS will not read a disk shorter than its geometry: make it 1 MiB.
  return Buffer.concat([sector, Buffer.alloc(2 ** 20 - 512)]);
}

/** AArch64, loaded raw by -kernel: print the marker on the virt machine's PL011, then PSCI SYSTEM_OFF. */
function aarch64Program(): Buffer {
  const words = [
    0xd2a12001, // movz x1, #0x0900, lsl #16   (PL011 data register 0x09000000)
    0x10000142, // adr x2, marker              (+40 bytes)
    0x38401443, // next: ldrb w3, [x2], #1
    0x34000063, // cbz w3, off
    0x39000023, // strb w3, [x1]
    0x17fffffd, // b next
    0xd2800100, // off: movz x0, #0x0008
    0xf2b08000, // movk x0, #0x8400, lsl #16   (PSCI SYSTEM_OFF 0x84000008)
    0xd4000002, // hvc #0
    0x14000000, // b .
    0xd503201f, // nop
  ];
  const code = Buffer.alloc(words.length * 4);
  for (const [i, w] of words.entries()) code.writeUInt32LE(w, i * 4);
  return Buffer.concat([code, Buffer.from(`${PROBE_MARKER}\r\n\0`, "latin1")]);
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly seconds: number;
  readonly reason?: string;
}

/** Runs the probe guest under `accelerator`; never throws, never hangs (killed after `timeoutMs`). */
export async function probeAccelerator(
  qemu: string,
  arch: Arch,
  accelerator: Accelerator,
  timeoutMs = 15_000,
): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), "cloud-images-probe-"));
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  try {
    const common = [
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-no-reboot",
      "-cpu",
      cpuModel(accelerator),
    ];
    const serial = ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"];
    let args: string[];
    if (arch === "x86_64") {
      const disk = join(dir, "probe.img");
      await writeFile(disk, x86BootSector());
      args = [
        ...["-machine", "q35", "-accel", accelerator, "-m", "64", ...common, ...serial],
        ...["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
        ...["-drive", `file=${disk},format=raw,if=none,id=d`, "-device", "virtio-blk-pci,drive=d"],
      ];
    } else {
      const program = join(dir, "probe.bin");
      await writeFile(program, aarch64Program());
      args = [
        ...["-machine", "virt", "-accel", accelerator, "-m", "64", ...common, ...serial],
        ...["-kernel", program],
      ];
    }
    let result: Awaited<ReturnType<typeof runChild>>;
    try {
      result = await runChild(qemu, args, { timeoutMs, killGraceMs: 1000 });
    } catch (e) {
      return { ok: false, seconds: seconds(), reason: (e as Error).message };
    }
    if (result.stdout.includes(PROBE_MARKER)) return { ok: true, seconds: seconds() };
    const last = result.stderr.trim().split("\n").pop()?.trim();
    const why = result.timedOut
      ? `no probe output within ${timeoutMs / 1000} s`
      : `QEMU ended (${result.signal ?? `exit ${result.exitCode}`}) without the probe output`;
    return { ok: false, seconds: seconds(), reason: last ? `${why}: ${last}` : why };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** True when this host's CPU can run guests of `arch` with KVM. */
export function hostRuns(arch: Arch): boolean {
  const host = hostArch();
  return (arch === "x86_64" && host === "x64") || (arch === "aarch64" && host === "arm64");
}

export interface AcceleratorChoice {
  readonly accelerator: Accelerator;
  /** Why not KVM, when auto chose TCG. */
  readonly warning?: string;
}

/** `auto`: KVM when the device is usable and the probe guest runs under it; TCG otherwise (with why). */
export async function chooseAccelerator(
  wanted: Accelerator | "auto",
  qemu: string,
  arch: Arch,
  kvmDevice = "/dev/kvm",
): Promise<AcceleratorChoice> {
  if (wanted !== "auto") return { accelerator: wanted };
  const tcg = (why: string): AcceleratorChoice => ({
    accelerator: "tcg",
    warning: `${why}: booting with TCG (software emulation, several times slower; the time budget is scaled up)`,
  });
  if (!hostRuns(arch)) return tcg(`this ${hostArch()} host cannot run ${arch} guests with KVM`);
  const access = await kvmAccess(kvmDevice);
  if (!access.usable) return tcg(access.reason);
  const probe = await probeAccelerator(qemu, arch, "kvm");
  if (!probe.ok) return tcg(`a probe guest did not run under KVM (${probe.reason})`);
  return { accelerator: "kvm" };
}
