import { fileURLToPath } from "node:url";
import { type CommandResult, runCommand } from "./process.js";

export const CLI = fileURLToPath(new URL("../../bin/cloud-images.js", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type CliResult = CommandResult;

/** Runs the real CLI in a child process, from the repository root unless `cwd` says otherwise. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], { ...options, cwd: options.cwd ?? REPO_ROOT });
}
