/**
 * Every child process a boot test starts (QEMU, ssh, ssh-keygen, qemu-img) goes through here: each runs in
 * a process group of its own, stopped as a whole (a signal, then SIGKILL after a grace period), and every
 * live one is known so an interrupt can end them all. The interface is the subset of the tool-wide
 * src/process module (issue 16) the boot test uses, so switching to it is one import.
 */
import { spawn } from "node:child_process";
import { EnvironmentError } from "../errors.js";

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
  /** Written to stdin, which is then closed (default: no stdin). */
  readonly input?: string | undefined;
  /** Stop the child (SIGTERM, then SIGKILL) after this long; `result.timedOut` tells. */
  readonly timeoutMs?: number | undefined;
  /** Between the first signal and SIGKILL to the group (default 5 s). */
  readonly killGraceMs?: number | undefined;
  /** Aborting stops the child. */
  readonly signal?: AbortSignal | undefined;
}

export interface ChildResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stopped: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Child {
  readonly pid: number;
  /** Settles once the child has exited and its group was ended. */
  readonly result: Promise<ChildResult>;
  stop(signal?: NodeJS.Signals): Promise<ChildResult>;
}

const live = new Set<Child>();

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Starts `cmd` in a process group of its own; rejects with an EnvironmentError when it cannot start. */
export async function startChild(
  cmd: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<Child> {
  const proc = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    detached: true,
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("close", (code, signal) => resolve({ code, signal })),
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
  }
  const pid = proc.pid!;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout!.on("data", (c: Buffer) => out.push(c));
  proc.stderr!.on("data", (c: Buffer) => err.push(c));
  if (proc.stdin) {
    proc.stdin.on("error", () => {}); // a child that exits before reading: its status tells
    proc.stdin.end(options.input);
  }
  const grace = options.killGraceMs ?? 5000;
  let timedOut = false;
  let stopped = false;
  let done = false;
  let killTimer: NodeJS.Timeout | undefined;
  const escalate = (signal: NodeJS.Signals) => {
    signalGroup(pid, signal);
    if (signal !== "SIGKILL" && !killTimer) killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), grace);
  };
  const timeoutTimer =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          escalate("SIGTERM");
        }, options.timeoutMs)
      : undefined;
  const onAbort = () => void stop();
  const handle = { pid } as Child;
  const result = (async (): Promise<ChildResult> => {
    const status = await exit;
    done = true;
    signalGroup(pid, "SIGKILL"); // whatever the child left in its group goes with it
    if (killTimer) clearTimeout(killTimer);
    if (timeoutTimer) clearTimeout(timeoutTimer);
    options.signal?.removeEventListener("abort", onAbort);
    live.delete(handle);
    return {
      exitCode: status.code,
      signal: status.signal,
      timedOut,
      stopped,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
    };
  })();
  function stop(signal: NodeJS.Signals = "SIGTERM"): Promise<ChildResult> {
    if (!done) {
      stopped = true;
      escalate(signal);
    }
    return result;
  }
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  Object.assign(handle, { result, stop });
  live.add(handle);
  return handle;
}

/** Starts `cmd` and waits for it to end, its output collected. */
export async function runChild(
  cmd: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildResult> {
  return (await startChild(cmd, args, options)).result;
}

/** Children started and not yet ended. */
export function liveChildren(): readonly Child[] {
  return [...live];
}
