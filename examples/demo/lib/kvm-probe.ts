/**
 * Does KVM really work here? /dev/kvm can exist and still be useless: on a paravirtual KVM (PVM) a stock
 * kernel never gets past its decompressor. So boot the demo guest once in probe mode, with a time limit,
 * and trust KVM only when the guest's marker comes back.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { type Child, startChild } from "../../../src/process/children.js";

export const PROBE_MARKER = "CLOUD-IMAGES-PROBE-OK";

export interface ProbeOptions {
  qemuBinary: string;
  kernel: string;
  initrd: string;
  accelerator: "kvm" | "tcg";
  /** Kill QEMU after this long (default 20 s). */
  timeoutMs?: number;
  /** Appended to the guest's kernel command line. */
  extraKernelArgs?: string;
}

export interface ProbeResult {
  ok: boolean;
  seconds: number;
  /** Why not, when not ok: a timeout, QEMU's exit, or its last message. */
  reason?: string;
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

/** Boots kernel + initrd in probe mode; resolves (never rejects, never hangs) with whether the marker came. */
export async function probeBoot(options: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const accel = options.accelerator === "kvm" ? ["-enable-kvm", "-cpu", "host"] : ["-accel", "tcg"];
  const append = `console=ttyS0 panic=0 quiet cloud_images.probe=1 ${options.extraKernelArgs ?? ""}`.trim();
  const args = [
    ...accel,
    ...["-m", "256", "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot"],
    ...["-serial", "stdio", "-kernel", options.kernel, "-initrd", options.initrd, "-append", append],
  ];
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  let output = "";
  let marker = false;
  let qemu: Child;
  try {
    qemu = await startChild(options.qemuBinary, args, {
      timeoutMs,
      onLine: (line) => {
        output += `${line}\n`;
        if (!marker && line.includes(PROBE_MARKER)) {
          marker = true;
          void qemu.stop("SIGKILL");
        }
      },
    });
  } catch (e) {
    return { ok: false, seconds: seconds(), reason: (e as Error).message };
  }
  const r = await qemu.result;
  if (marker) return { ok: true, seconds: seconds() };
  if (r.timedOut)
    return { ok: false, seconds: seconds(), reason: `no probe marker after ${timeoutMs / 1000} s` };
  const status = r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
  const last = lastLine(output);
  return {
    ok: false,
    seconds: seconds(),
    reason: `QEMU ended (${status}) without the marker${last ? `: ${last}` : ""}`,
  };
}

export interface AcceleratorChoice {
  accelerator: "kvm" | "tcg";
  /** Set when KVM was not usable: why, for a warning. */
  warning?: string;
  probe?: ProbeResult;
}

/** KVM when `kvmDevice` is accessible and a probe boot under it succeeds; TCG otherwise (with why). */
export async function chooseAccelerator(
  options: Omit<ProbeOptions, "accelerator"> & { kvmDevice?: string },
): Promise<AcceleratorChoice> {
  const device = options.kvmDevice ?? "/dev/kvm";
  if (!existsSync(device)) {
    return {
      accelerator: "tcg",
      warning: `${device} does not exist: using TCG (software emulation, slower)`,
    };
  }
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch {
    return {
      accelerator: "tcg",
      warning: `${device} is not accessible to this user (add it to the kvm group): using TCG (slower)`,
    };
  }
  const probe = await probeBoot({ ...options, accelerator: "kvm" });
  if (probe.ok) return { accelerator: "kvm", probe };
  return {
    accelerator: "tcg",
    probe,
    warning: `KVM probe boot failed (${probe.reason}): using TCG (slower)`,
  };
}
