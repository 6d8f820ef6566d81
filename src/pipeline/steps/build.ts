/** build: `packer init` (when this Packer has it), then `packer build -only=SOURCE .` in the templates dir. */
import { mkdir } from "node:fs/promises";
import { StepFailedError } from "../../errors.js";
import { runChild } from "../../process/children.js";
import type { LegContext, Step } from "../context.js";
import { shellQuote } from "../packer.js";

export const DEFAULT_BUILD_TIMEOUT_MS = 3 * 60 * 60 * 1000;

/** The build log lives in the leg's state directory until locate moves it beside the image. */
export function buildLogPath(ctx: LegContext): string {
  return ctx.paths.buildLog;
}

function packerOf(ctx: LegContext): string {
  return ctx.options.packer ?? "packer";
}

export const build: Step = {
  name: "build",

  async run(ctx) {
    const packer = packerOf(ctx);
    const cwd = ctx.options.templatesDir;
    const log = buildLogPath(ctx);
    await mkdir(ctx.paths.stateDir, { recursive: true });
    const prefix = `[packer ${ctx.leg.arch}] `;
    if (ctx.state.packerInit) {
      const init = await runChild(packer, ["init", "."], {
        cwd,
        env: ctx.env,
        onLine: (line) => ctx.log(prefix + line),
        signal: ctx.signal,
      });
      if (init.exitCode !== 0)
        throw new StepFailedError("build", `packer init failed (exit ${init.exitCode})`);
    }
    const args = ctx.state.packerArgs!;
    const timeoutMs = ctx.options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    ctx.log(`running: ${[packer, ...args].map(shellQuote).join(" ")} (in ${cwd})`);
    const result = await runChild(packer, args, {
      cwd,
      env: ctx.env,
      onLine: (line) => ctx.log(prefix + line),
      logFile: log,
      timeoutMs,
      signal: ctx.signal,
    });
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
      `${[packer, ...(ctx.state.packerArgs ?? [])].map(shellQuote).join(" ")}   (in ${ctx.options.templatesDir})`,
    );
    return lines;
  },
};
