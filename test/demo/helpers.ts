/** Shared by the demo tests: tool checks (for visible skips), temp copies of the template, running Packer. */
import { spawn } from "node:child_process";
import {
  accessSync,
  constants,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "../../imagegen/exec.js";
import { findHostKernel } from "../fixtures/busybox-leg/lib/kernel.js";

/**
 * The busybox leg (test/fixtures/busybox-leg): the quick real Packer + QEMU build (a busybox guest stamps
 * a generated base disk and powers off, ~1 min under TCG) the pipeline tests use. `npm run demo` builds
 * from the realistic guest instead (examples/demo).
 */
export const DEMO_DIR = fileURLToPath(new URL("../fixtures/busybox-leg/", import.meta.url));
export const TEMPLATE = "almalinux-demo.pkr.hcl";
export const QEMU = "/usr/bin/qemu-system-x86_64";
/** The flags the pipeline passes on Debian/Ubuntu runners. */
export const PIPELINE_VARS = [
  "-var",
  `qemu_binary=${QEMU}`,
  "-var",
  "ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd",
  "-var",
  "ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd",
];

/** Why tests needing these tools must skip, or null when all are there. */
export function missingTools(tools: readonly string[]): string | null {
  const missing = tools.filter((t) => {
    if (t.startsWith("/")) {
      try {
        accessSync(t, constants.X_OK);
        return false;
      } catch {
        return true;
      }
    }
    return which(t) === null;
  });
  return missing.length ? `missing ${missing.join(", ")}` : null;
}

/** Why tests booting the demo guest must skip for want of a host kernel, or null when there is one. */
export function kernelMissing(): string | null {
  try {
    findHostKernel();
    return null;
  } catch {
    return "no /boot/vmlinuz-* with /lib/modules (linux-image-amd64)";
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A temp directory holding a copy of the busybox leg's template (tests never build in the fixture itself). */
export function templateCopy(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `demo-test-${prefix}-`));
  copyFileSync(join(DEMO_DIR, TEMPLATE), join(dir, TEMPLATE));
  return dir;
}

export interface ToolRun {
  code: number;
  output: string;
  seconds: number;
}

/** Runs a command to completion, stdout and stderr together; kills it after `timeoutMs`. */
export function runTool(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), output, seconds: (Date.now() - started) / 1000 });
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE from a child that exits before reading: its exit status tells
      child.stdin.end(options.input);
    }
  });
}

/** `packer build -only=<the demo source> .` in `dir` with the pipeline's flags plus `extra`. */
export function packerBuild(
  dir: string,
  extra: readonly string[] = [],
  timeoutMs = 300_000,
): Promise<ToolRun> {
  return runTool(
    "packer",
    ["build", "-color=false", ...PIPELINE_VARS, ...extra, "-only=qemu.almalinux-9-gencloud-x86_64", "."],
    { cwd: dir, timeoutMs, env: { PACKER_CACHE_DIR: join(dir, "packer_cache"), CHECKPOINT_DISABLE: "1" } },
  );
}

/** TCP ports (IPv4 or IPv6) on which process `pid` holds a listening socket; [] once it is gone. */
export function listeningTcpPorts(pid: number): number[] {
  const sockets = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkOrEmpty(`/proc/${pid}/fd/${fd}`));
      if (m) sockets.add(m[1]!);
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; st 0A is LISTEN
      if (f[3] === "0A" && sockets.has(f[9] ?? "")) ports.push(Number.parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return ""; // closed meanwhile
  }
}

/** PIDs of running processes whose command line mentions `needle` (to catch leaked QEMUs). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(needle)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
