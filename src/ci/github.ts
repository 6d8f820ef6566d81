/**
 * GitHub Actions files: step outputs ($GITHUB_OUTPUT), the job environment ($GITHUB_ENV) and the job
 * summary ($GITHUB_STEP_SUMMARY).
 */
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { OutputFileError, UsageError } from "../errors.js";

/** Refuses early (before a long run) when a GitHub Actions file the run will write to is not set or not writable. */
export function requireGithubFiles(...variables: string[]): void {
  for (const v of variables) {
    const path = requireEnvFile(v);
    append(v, path, "");
  }
}

/** Appends to a GitHub Actions file; a path that cannot take it is bad input naming the variable. */
function append(variable: string, path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OutputFileError(
      `cannot append to $${variable} (${path}): ${code ?? (e as Error).message}`,
      code,
      {
        cause: e,
      },
    );
  }
}

function requireEnvFile(variable: string): string {
  const path = process.env[variable];
  if (!path) throw new UsageError(`${variable} is not set (this option only works inside GitHub Actions)`);
  return path;
}

/** `name=value` lines; multi-line values use the heredoc form GitHub documents. */
function appendAssignments(variable: string, values: Readonly<Record<string, string>>): void {
  const path = requireEnvFile(variable);
  let text = "";
  for (const [name, value] of Object.entries(values)) {
    if (value.includes("\n")) {
      const delimiter = `ghadelimiter_${randomUUID()}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    } else {
      text += `${name}=${value}\n`;
    }
  }
  append(variable, path, text);
}

/** Appends step outputs to $GITHUB_OUTPUT. */
export function appendGithubOutputs(outputs: Readonly<Record<string, string>>): void {
  appendAssignments("GITHUB_OUTPUT", outputs);
}

/** Sets variables for the job's later steps through $GITHUB_ENV. */
export function appendGithubEnv(variables: Readonly<Record<string, string>>): void {
  appendAssignments("GITHUB_ENV", variables);
}

export function appendJobSummary(markdown: string): boolean {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return false;
  append("GITHUB_STEP_SUMMARY", path, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return true;
}

export function inGithubActions(): boolean {
  return process.env.GITHUB_ACTIONS === "true";
}
