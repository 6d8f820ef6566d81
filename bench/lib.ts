/**
 * Benchmark helpers. Benchmarks run our command and the reference tool side by side in the same run
 * and print ratios: absolute times on shared machines mean little.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Measurement {
  /** Wall-clock seconds. */
  wall: number;
  /** Peak resident set size of the command (and its children), in bytes. */
  maxRss: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under GNU time, returning wall time and peak RSS. */
export async function measure(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  const timeFile = join(dir, "time");
  const start = process.hrtime.bigint();
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-o", timeFile, "-f", "%M", cmd, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const lines = readFileSync(timeFile, "utf8").trim().split("\n");
  const maxRss = Number(lines[lines.length - 1]) * 1024;
  rmSync(dir, { recursive: true, force: true });
  return { wall, maxRss, exitCode: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** Median of `n` runs of an async function returning a Measurement. */
export async function medianOf(n: number, run: () => Promise<Measurement>): Promise<Measurement> {
  const runs: Measurement[] = [];
  for (let i = 0; i < n; i++) runs.push(await run());
  runs.sort((a, b) => a.wall - b.wall);
  return runs[Math.floor(n / 2)]!;
}

export const MiB = 1024 * 1024;

export function fmtSeconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

export function fmtMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** One result line: name, figures, target and whether it was met. */
export function report(name: string, figures: Record<string, string>, target: string, met: boolean): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  console.log(`${met ? "PASS" : "MISS"}  ${name}: ${parts.join("  ")}  (target: ${target})`);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Runs `go` while polling /proc for the bytes read (rchar) by the processes whose command line
 * contains `arg` (GNU time itself excluded); returns the largest count seen.
 */
export async function withRchar(
  arg: string,
  go: () => Promise<Measurement>,
): Promise<{ m: Measurement; rchar: number }> {
  let rchar = 0;
  const poll = setInterval(() => {
    for (const pid of processesNaming(arg)) rchar = Math.max(rchar, readRchar(pid));
  }, 20);
  try {
    return { m: await go(), rchar };
  } finally {
    clearInterval(poll);
  }
}

function processesNaming(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes(arg) && !argv[0]!.endsWith("/time")) pids.push(Number(entry));
    } catch {
      // the process ended between listing and reading
    }
  }
  return pids;
}

function readRchar(pid: number): number {
  try {
    const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
