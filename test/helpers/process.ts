import { spawn } from "node:child_process";

export interface CommandResult {
  /** The exit code, or -1 when a signal ended the process. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and collects its output. `env` is added to this process's environment;
 * the child gets a stdin pipe only when `input` is given.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE from a child that exits before reading: its exit status tells
      child.stdin.end(options.input);
    }
  });
}
