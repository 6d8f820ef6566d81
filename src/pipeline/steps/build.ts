/** build: `packer init` (when this Packer has it), then `packer build -only=SOURCE .` in the templates dir. */
import { mkdir } from "node:fs/promises";
import { StepFailedError } from "../../errors.js";
import { runChild } from "../../process/children.js";
import type { LegContext, Step } from "../context.js";
import { shellQuote } from "../packer.js";

export const DEFAULT_BUILD_TIMEOUT_MS = 3 * 60 * 60 * 1000;
const HEARTBEAT_MS = 60_000;

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/**
 * Packer can be silent for many minutes (a guest installing): after each `silenceMs` without output
 * (`output()` marks some), `say` gets a line saying the build is still running. `stop()` ends it.
 */
export function buildHeartbeat(
  say: (line: string) => void,
  silenceMs = HEARTBEAT_MS,
): { output(): void; stop(): void } {
  const started = Date.now();
  let last = started;
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last < silenceMs) return;
    last = now;
    say(`still building after ${clock(now - started)} (no output for ${clock(silenceMs)})`);
  }, silenceMs / 6);
  return {
    output: () => {
      last = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}

/** The build log lives in the leg's state directory until locate moves it beside the image. */
export function buildLogPath(ctx: LegContext): string {
  return ctx.paths.buildLog;
}

function packerOf(ctx: LegContext): string {
  return ctx.options.packer ?? "packer";
}

/**
 * The run's stamps in Packer's environment, under the names upstream's build jobs set, so a template
 * can stamp its image with the run's time (the demo does: its build_stamp defaults to env("TIME_STAMP")).
 */
function stampEnv(ctx: LegContext): Record<string, string> {
  return { TIME_STAMP: ctx.timeStamp, DATE_STAMP: ctx.dateStamp };
}

export const build: Step = {
  name: "build",

  async run(ctx) {
    const packer = packerOf(ctx);
    const cwd = ctx.options.templatesDir;
    const env = { ...ctx.env, ...stampEnv(ctx) };
    const log = buildLogPath(ctx);
    await mkdir(ctx.paths.stateDir, { recursive: true });
    const prefix = `[packer ${ctx.leg.arch}] `;
    if (ctx.state.packerInit) {
      const init = await runChild(packer, ["init", "."], {
        cwd,
        env,
        onLine: (line) => ctx.log(prefix + line),
        signal: ctx.signal,
      });
      if (init.exitCode !== 0)
        throw new StepFailedError("build", `packer init failed (exit ${init.exitCode})`);
    }
    const args = ctx.state.packerArgs!;
    const timeoutMs = ctx.options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    ctx.log(`running: ${commandLine(ctx, [packer, ...args])} (in ${cwd})`);
    const heartbeat = buildHeartbeat((line) => ctx.log(prefix + line));
    const result = await runChild(packer, args, {
      cwd,
      env,
      onLine: (line) => {
        heartbeat.output();
        ctx.log(prefix + line);
      },
      logFile: log,
      timeoutMs,
      signal: ctx.signal,
    }).finally(() => heartbeat.stop());
    ctx.state.packerLog = log;
    if (result.stopped && ctx.signal?.aborted) throw ctx.signal.reason;
    const outputs = { command: [packer, ...args], exitCode: result.exitCode, log };
    if (result.timedOut) {
      throw new StepFailedError(
        "build",
        `packer did not finish within ${Math.round(timeoutMs / 60000)} min and was stopped (log: ${log})`,
      );
    }
    if (result.exitCode !== 0) {
      const last = result.tail.filter((l) => l.trim()).at(-1) ?? "";
      const how = result.exitCode === null ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
      throw new StepFailedError("build", `packer build failed (${how}): ${last.trim()} (log: ${log})`);
    }
    return { outputs };
  },

  describe(ctx) {
    const packer = packerOf(ctx);
    const lines = [];
    if (ctx.state.packerInit) lines.push(`${packer} init .`);
    lines.push(
      `${commandLine(ctx, [packer, ...(ctx.state.packerArgs ?? [])])}   (in ${ctx.options.templatesDir})`,
    );
    return lines;
  },
};

/** The command as a shell line with its stamp variables, to paste into a shell. */
function commandLine(ctx: LegContext, argv: readonly string[]): string {
  const vars = Object.entries(stampEnv(ctx)).map(([k, v]) => `${k}=${v}`);
  return [...vars, ...argv.map(shellQuote)].join(" ");
}
