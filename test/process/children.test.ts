/**
 * The one way the tool runs child processes: process groups, output, timeouts, escalation, interrupts,
 * and the watchdog that ends the children when the tool itself is killed with SIGKILL. Real processes
 * (sh, sleep), found afterwards through /proc by a tag in their environment.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EnvironmentError, InterruptedError } from "../../src/errors.js";
import { runChild, startChild } from "../../src/process/children.js";
import { groupExists, readStat } from "../../src/process/proc.js";
import { WATCHDOG_SOURCE } from "../../src/process/watchdog.js";
import {
  killTagged,
  newTag,
  TAG_VARIABLE,
  taggedProcesses,
  waitForTaggedGone,
} from "../helpers/tagged-processes.js";

const HOLDER = fileURLToPath(new URL("./holder.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "process-children-"));
const tags: string[] = [];
afterAll(() => {
  for (const tag of tags) killTagged(tag);
  rmSync(dir, { recursive: true, force: true });
});

function tagged(): { tag: string; env: NodeJS.ProcessEnv } {
  const tag = newTag();
  tags.push(tag);
  return { tag, env: { ...process.env, [TAG_VARIABLE]: tag } };
}

function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/** Starts the stand-in tool; resolves with it and the first JSON line it prints. */
async function holder(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ proc: ChildProcess; first: Record<string, unknown>; lines: AsyncIterator<string> }> {
  const proc = spawn(process.execPath, [HOLDER, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("the holder printed nothing");
  return { proc, first: JSON.parse(first.value), lines };
}

const exitOf = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );

describe("runChild", () => {
  it("streams whole lines of both streams, keeps a log and the output, reports the exit code", async () => {
    const lines: string[] = [];
    const log = join(dir, "out.log");
    const r = await runChild("sh", ["-c", "echo one; echo two >&2; printf three; exit 3"], {
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
      logFile: log,
    });
    expect(r.exitCode).toBe(3);
    expect(r.signal).toBeNull();
    expect(lines.sort()).toEqual(["stderr:two", "stdout:one", "stdout:three"]);
    expect(r.stdout).toBe("one\nthree");
    expect(r.stderr).toBe("two\n");
    expect(readFileSync(log, "utf8").split("\n").sort()).toEqual(["", "one", "three", "two"]);
  });

  it("writes output straight into a file and feeds stdin when asked", async () => {
    const out = join(dir, "console.log");
    const r = await runChild("sh", ["-c", "cat; echo err >&2"], {
      input: "from stdin\n",
      stdout: { file: out },
      stderr: "stdout",
    });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("from stdin\nerr\n");
    expect(r.stdout).toBe("");
  });

  it("names a command that cannot start", async () => {
    const e = await runChild("/nonexistent/qemu-system-x86_64", []).catch((x) => x);
    expect(e).toBeInstanceOf(EnvironmentError);
    expect(e.message).toBe("cannot run /nonexistent/qemu-system-x86_64: not found");
  });

  it("puts every child in a process group of its own", async () => {
    const child = await startChild("sleep", ["30"]);
    const stat = readStat(child.pid)!;
    expect(stat.pgid).toBe(child.pid);
    expect(stat.sid).toBe(child.pid);
    expect(readStat(process.pid)!.pgid).not.toBe(child.pid);
    const r = await child.stop();
    expect(r).toMatchObject({ signal: "SIGTERM", stopped: true });
  });

  it("a timeout ends the whole group (a hung QEMU under Packer)", async () => {
    const started = Date.now();
    const r = await runChild("sh", ["-c", "sleep 60 & echo $!; wait"], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    const grandchild = Number(r.stdout.trim());
    expect(alive(grandchild)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("what a child leaves running in its group ends with it (QEMU outliving Packer)", async () => {
    const r = await runChild("sh", ["-c", "sleep 60 & echo $!"]);
    expect(r.exitCode).toBe(0);
    const grandchild = Number(r.stdout.trim());
    expect(alive(grandchild)).toBe(false);
    expect(groupExists(grandchild)).toBe(false);
  });

  it("stop() escalates to SIGKILL after the grace period for a child that ignores SIGTERM", async () => {
    const child = await startChild("sh", ["-c", "trap '' TERM; echo ready; sleep 60"], { killGraceMs: 300 });
    // wait until the trap is set
    for (
      let i = 0;
      i < 100 && !readFileSync(`/proc/${child.pid}/status`, "utf8").includes("SigIgn:\t0000000000004000");
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const r = await child.stop();
    expect(r.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(groupExists(child.pid)).toBe(false);
  });

  it("an abort with an InterruptedError forwards its signal to the group", async () => {
    const controller = new AbortController();
    const mark = join(dir, "int.mark");
    const child = await startChild("sh", ["-c", `trap 'echo INT > ${mark}; exit 7' INT; sleep 60 & wait`], {
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 200));
    controller.abort(new InterruptedError("SIGINT"));
    const r = await child.result;
    expect(r.stopped).toBe(true);
    expect(readFileSync(mark, "utf8")).toBe("INT\n");
    // and a spawn after the interruption does not happen at all
    await expect(startChild("true", [], { signal: controller.signal })).rejects.toBeInstanceOf(
      InterruptedError,
    );
  });
});

describe("the tool's death", () => {
  it("SIGKILL of the tool: the watchdog ends every child group, SIGKILL for those ignoring SIGTERM", async () => {
    const { tag, env } = tagged();
    const { proc, first } = await holder(
      ["children", "sleep 300 & sleep 300 & wait", "trap '' TERM; sleep 300 & wait"],
      env,
    );
    const pids = first.pids as number[];
    expect(pids).toHaveLength(2);
    // both children, each with a grandchild, plus the watchdog and the holder itself carry the tag
    expect(taggedProcesses(tag).length).toBeGreaterThanOrEqual(7);
    const exit = exitOf(proc);
    proc.kill("SIGKILL");
    await exit;
    const started = Date.now();
    const left = await waitForTaggedGone(tag, 10_000);
    expect(left).toEqual([]);
    // the group that ignored SIGTERM needed the watchdog's SIGKILL after its 5 s grace
    expect(Date.now() - started).toBeGreaterThan(3000);
  });

  it("SIGTERM to the tool is forwarded to its children, waited for, and the tool exits 143", async () => {
    const { tag, env } = tagged();
    const mark = join(dir, "term.mark");
    const { proc, lines } = await holder(
      ["children", "--interrupts", `trap 'echo TERM >> ${mark}; exit 0' TERM; sleep 300 & wait`],
      env,
    );
    const stderr: string[] = [];
    proc.stderr!.on("data", (d) => stderr.push(String(d)));
    const exit = exitOf(proc);
    proc.kill("SIGTERM");
    const results = JSON.parse((await lines.next()).value);
    expect(results.results).toEqual([{ exitCode: 0, signal: null, stopped: true }]);
    expect(await exit).toEqual({ code: 143, signal: null });
    expect(stderr.join("")).toBe("holder: interrupted by SIGTERM\n");
    expect(readFileSync(mark, "utf8")).toBe("TERM\n");
    expect(taggedProcesses(tag)).toEqual([]);
  });

  it("a second signal kills every child group at once and exits with the first signal's code", async () => {
    const { tag, env } = tagged();
    // The child ignores SIGTERM: after the first signal it would take the 1 s grace to be killed.
    const { proc, lines } = await holder(["children", "--interrupts", "trap '' TERM; sleep 300"], env);
    const exit = exitOf(proc);
    proc.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    proc.kill("SIGINT");
    expect(await exit).toEqual({ code: 143, signal: null });
    // It exited before its children's results were in: no waiting for the grace period.
    expect((await lines.next()).done).toBe(true);
    expect(await waitForTaggedGone(tag, 2000)).toEqual([]);
  });

  it("SIGINT and SIGHUP exit 130 and 129", async () => {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGHUP", 129],
    ] as const) {
      const { tag, env } = tagged();
      const { proc } = await holder(["children", "--interrupts", "sleep 300"], env);
      const exit = exitOf(proc);
      proc.kill(signal);
      expect((await exit).code).toBe(code);
      expect(await waitForTaggedGone(tag, 2000)).toEqual([]);
    }
  });

  it("the watchdog leaves alone a group whose leader pid now names another process", async () => {
    const { env } = tagged();
    const other = spawn("sleep", ["30"], { detached: true, stdio: "ignore", env });
    await new Promise((r) => other.once("spawn", r));
    const pid = other.pid!;
    const realStart = readStat(pid)!.startTime;
    const watchdog = spawn(process.execPath, ["-e", WATCHDOG_SOURCE, "200"], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    watchdog.stdin!.end(`+ ${pid} ${realStart + 1}\n`);
    await exitOf(watchdog);
    expect(alive(pid)).toBe(true);
    // the same registration with the right start time is ended
    const again = spawn(process.execPath, ["-e", WATCHDOG_SOURCE, "200"], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    again.stdin!.end(`+ ${pid} ${realStart}\n`);
    await exitOf(again);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });
});
