/**
 * Benchmark helpers. Benchmarks run our command and the reference tool side by side in the same run
 * and print ratios: absolute times on shared machines mean little.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
