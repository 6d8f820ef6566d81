/**
 * Every child process the tool starts: each in a process group (a session) of its own, registered with
 * the watchdog, ended with escalation (signal, grace period, SIGKILL to the whole group), waited for.
 * When a child exits, whatever it left running in its group is ended too: a QEMU outliving its Packer
 * is never left behind.
 */
import { spawn } from "node:child_process";
import { closeSync, createWriteStream, openSync } from "node:fs";
import { basename } from "node:path";
import type { Readable, Writable } from "node:stream";
import { checkTimerMs } from "../durations.js";
import { EnvironmentError, InterruptedError } from "../errors.js";
import { groupExists, readStat, signalGroup } from "./proc.js";
import { ensureWatchdog, unwatchGroup, watchGroup } from "./watchdog.js";

/** Where a child's stdout or stderr goes. */
export type OutputTarget =
  /** Read by the tool: `onLine`, `logFile`, `result.stdout`/`stderr`, `result.tail` (the default). */
  | "pipe"
  | "ignore"
  /** The tool's own stdout/stderr. */
  | "inherit"
  /** Written by the child straight into a file (kept even if the tool dies). */
  | { readonly file: string; readonly append?: boolean };

export interface ChildOptions {
  readonly cwd?: string | undefined;
  /** The whole environment (default: the tool's). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Written to stdin, which is then closed; `"pipe"` leaves `child.stdin` open for the caller. Default: none. */
  readonly input?: string | Buffer | "pipe" | undefined;
  readonly stdout?: OutputTarget | undefined;
  /** `"stdout"`: the same file as stdout (one fd, lines interleaved as written). */
  readonly stderr?: OutputTarget | "stdout" | undefined;
  /** Each whole line of piped output, as it arrives. */
  readonly onLine?: ((line: string, stream: "stdout" | "stderr") => void) | undefined;
  /** Piped output (both streams, whole lines) is also written to this file. */
  readonly logFile?: string | undefined;
  /** Stop the child (SIGTERM, then SIGKILL) after this long; `result.timedOut` tells. */
  readonly timeoutMs?: number | undefined;
  /** Between the first signal and SIGKILL to the group (default 5 s). */
  readonly killGraceMs?: number | undefined;
  /**
   * Aborting stops the child: with the signal an InterruptedError reason names (SIGINT, SIGTERM…),
   * else SIGTERM. Already aborted: the child is not started and InterruptedError (or the reason) is thrown.
   */
  readonly signal?: AbortSignal | undefined;
  /** The child's name in messages (default: the command's base name). */
  readonly name?: string | undefined;
}

export interface ChildResult {
  /** The exit code, or null when a signal ended the child. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Ended by stop(), an aborted `options.signal` or an interruption of the tool. */
  readonly stopped: boolean;
  /** Piped output (capped at 64 MiB per stream). */
  readonly stdout: string;
  readonly stderr: string;
  /** The last 20 lines of piped output, for error messages. */
  readonly tail: readonly string[];
  readonly durationMs: number;
}

export interface Child {
  readonly pid: number;
  readonly name: string;
  /** Open only with `input: "pipe"`. */
  readonly stdin: Writable | undefined;
  /** Settles once the child and everything left in its process group are gone. */
  readonly result: Promise<ChildResult>;
  /** Sends `signal` (default SIGTERM) to the group, SIGKILL after the grace period; waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<ChildResult>;
}

export const DEFAULT_KILL_GRACE_MS = 5000;
const TAIL_LINES = 20;
const MAX_COLLECT = 64 * 1024 * 1024;
/** After the group is gone, how long piped output may still take to drain (a daemon holding the pipe). */
const DRAIN_MS = 2000;

const live = new Set<Child>();

/** Children started and not yet ended (the interrupt handler stops them all). */
export function liveChildren(): readonly Child[] {
  return [...live];
}

/** Starts `cmd args`; resolves once it runs, rejects with an EnvironmentError when it cannot start. */
export async function startChild(
  cmd: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<Child> {
  const name = options.name ?? basename(cmd);
  throwIfAborted(options.signal);
  if (options.timeoutMs !== undefined) checkTimerMs(options.timeoutMs, `the timeout of ${name}`);
  await ensureWatchdog();
  const fds: number[] = [];
  const target = (t: OutputTarget | undefined): "pipe" | "ignore" | "inherit" | number => {
    if (t === undefined || typeof t === "string") return t ?? "pipe";
    const fd = openSync(t.file, t.append ? "a" : "w", 0o644);
    fds.push(fd);
    return fd;
  };
  const input = options.input;
  const stdin = input === undefined ? "ignore" : "pipe";
  let stdout: ReturnType<typeof target>;
  let stderr: ReturnType<typeof target>;
  try {
    stdout = target(options.stdout);
    stderr = options.stderr === "stdout" ? stdout : target(options.stderr);
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw new EnvironmentError(`cannot open the output file of ${name}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const started = Date.now();
  const proc = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [stdin, stdout, stderr],
    detached: true, // a session and process group of its own: one kill reaches everything it starts
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal: signal as NodeJS.Signals | null })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      proc.once("spawn", resolve);
      proc.once("error", reject);
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "not found" : code === "EACCES" ? "not executable" : (code ?? String(e));
    throw new EnvironmentError(`cannot run ${cmd}: ${why}`, { cause: e });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const pid = proc.pid!;
  const startTime = readStat(pid)?.startTime;
  if (startTime !== undefined) watchGroup(pid, startTime);

  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "w" }) : undefined;
  const tail: string[] = [];
  const collected = { stdout: "", stderr: "" };
  let timedOut = false;
  let stopped = false;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;

  const reader = (stream: Readable | null, which: "stdout" | "stderr") => {
    if (!stream) return Promise.resolve();
    let partial = "";
    const emit = (line: string) => {
      log?.write(`${line}\n`);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onLine?.(line, which);
    };
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => {
      if (collected[which].length < MAX_COLLECT) collected[which] += text;
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop()!;
      for (const line of lines) emit(line);
    });
    return new Promise<void>((resolve) =>
      stream.once("close", () => {
        if (partial !== "") emit(partial);
        partial = "";
        resolve();
      }),
    );
  };
  const drained = Promise.all([reader(proc.stdout, "stdout"), reader(proc.stderr, "stderr")]);

  const escalate = (signal: NodeJS.Signals) => {
    signalGroup(pid, signal);
    if (signal !== "SIGKILL" && !killTimer) {
      killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), grace);
    }
  };

  const handle = { pid, name, stdin: input === "pipe" ? (proc.stdin ?? undefined) : undefined } as Child;
  const result = (async (): Promise<ChildResult> => {
    const status = await exit;
    exited = status;
    // Whatever the child left in its group goes with it.
    if (groupExists(pid)) escalate("SIGTERM");
    while (groupExists(pid)) await sleep(50);
    if (killTimer) clearTimeout(killTimer);
    if (timeoutTimer) clearTimeout(timeoutTimer);
    options.signal?.removeEventListener("abort", onAbort);
    unwatchGroup(pid);
    await Promise.race([drained, sleep(DRAIN_MS)]);
    proc.stdout?.destroy();
    proc.stderr?.destroy();
    if (log) await new Promise((resolve) => log.end(resolve));
    live.delete(handle);
    return {
      exitCode: status.code,
      signal: status.signal,
      timedOut,
      stopped,
      stdout: collected.stdout,
      stderr: collected.stderr,
      tail: [...tail],
      durationMs: Date.now() - started,
    };
  })();

  const stop = (signal: NodeJS.Signals = "SIGTERM"): Promise<ChildResult> => {
    if (!exited) stopped = true;
    if (!exited || groupExists(pid)) escalate(signal);
    return result;
  };
  if (options.timeoutMs !== undefined) {
    timeoutTimer = setTimeout(() => {
      if (exited) return;
      timedOut = true;
      escalate("SIGTERM");
    }, options.timeoutMs);
  }
  function onAbort(): void {
    const reason = options.signal?.reason;
    void stop(reason instanceof InterruptedError ? reason.signal : "SIGTERM");
  }
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  if (input !== undefined && input !== "pipe") {
    proc.stdin!.on("error", () => {}); // a child that exits before reading: its exit status tells
    proc.stdin!.end(input);
  } else proc.stdin?.on("error", () => {});

  Object.assign(handle, { result, stop });
  live.add(handle);
  return handle;
}

/** Starts `cmd args` and waits for it (and its group) to end. */
export async function runChild(
  cmd: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildResult> {
  return (await startChild(cmd, args, options)).result;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof Error ? signal.reason : new InterruptedError("SIGTERM");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
