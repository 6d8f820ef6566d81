/** Runs an external command, streaming its output line by line with a prefix and into a log file. */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

export interface RunCommandOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Each output line, already prefixed (default: dropped). */
  readonly onLine?: (line: string) => void;
  readonly prefix?: string;
  /** Full output (stdout and stderr, unprefixed, whole lines) goes here too. */
  readonly logFile?: string;
  /** Kill the command (and its process group) after this many milliseconds. */
  readonly timeoutMs?: number;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** The last lines of output, for error messages. */
  readonly tail: readonly string[];
}

const TAIL_LINES = 20;

export function runCommand(
  cmd: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const log = options.logFile ? createWriteStream(options.logFile, { flags: "w" }) : undefined;
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout kills QEMU too
    });
    const tail: string[] = [];
    const emit = options.onLine ?? (() => {});
    const splitter = () => {
      let partial = "";
      return (chunk: Buffer, end = false) => {
        const text = partial + chunk.toString("utf8");
        const lines = text.split(/\r?\n/);
        partial = end ? "" : lines.pop()!;
        for (const line of lines) {
          if (end && line === "") continue;
          log?.write(`${line}\n`);
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          emit(`${options.prefix ?? ""}${line}`);
        }
      };
    };
    const out = splitter();
    const err = splitter();
    child.stdout.on("data", (c: Buffer) => out(c));
    child.stderr.on("data", (c: Buffer) => err(c));
    let timedOut = false;
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child.pid, "SIGTERM");
            setTimeout(() => killGroup(child.pid, "SIGKILL"), 5000).unref();
          }, options.timeoutMs)
        : undefined;
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      log?.end();
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      out(Buffer.alloc(0), true);
      err(Buffer.alloc(0), true);
      const done = () => resolve({ exitCode, signal, timedOut, tail });
      if (log) log.end(done);
      else done();
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
