/**
 * Does KVM really work here? /dev/kvm can exist and still be useless: on a paravirtual KVM (PVM) a stock
 * kernel never gets past its decompressor. So boot the demo guest once in probe mode, with a time limit,
 * and trust KVM only when the guest's marker comes back.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";

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
export function probeBoot(options: ProbeOptions): Promise<ProbeResult> {
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
  return new Promise((resolve) => {
    let output = "";
    let done = false;
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve(result);
    };
    const child = spawn(options.qemuBinary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(
      () => finish({ ok: false, seconds: seconds(), reason: `no probe marker after ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      output += d.toString("utf8");
      if (output.includes(PROBE_MARKER)) finish({ ok: true, seconds: seconds() });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) =>
      finish({ ok: false, seconds: seconds(), reason: `cannot run ${options.qemuBinary}: ${e.message}` }),
    );
    child.on("close", (code, signal) => {
      const status = signal ? `signal ${signal}` : `exit ${code}`;
      const last = lastLine(output);
      finish({
        ok: false,
        seconds: seconds(),
        reason: `QEMU ended (${status}) without the marker${last ? `: ${last}` : ""}`,
      });
    });
  });
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
