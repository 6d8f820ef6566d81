/** GitHub Actions files: step outputs ($GITHUB_OUTPUT) and the job summary ($GITHUB_STEP_SUMMARY). */
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { UsageError } from "../errors.js";

function requireEnvFile(variable: string): string {
  const path = process.env[variable];
  if (!path) throw new UsageError(`${variable} is not set (this option only works inside GitHub Actions)`);
  return path;
}

/** Appends `name=value` outputs; multi-line values use the heredoc form GitHub documents. */
export function appendGithubOutputs(outputs: Readonly<Record<string, string>>): void {
  const path = requireEnvFile("GITHUB_OUTPUT");
  let text = "";
  for (const [name, value] of Object.entries(outputs)) {
    if (value.includes("\n")) {
      const delimiter = `ghadelimiter_${randomUUID()}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    } else {
      text += `${name}=${value}\n`;
    }
  }
  appendFileSync(path, text);
}

export function appendJobSummary(markdown: string): boolean {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return false;
  appendFileSync(path, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return true;
}

export function inGithubActions(): boolean {
  return process.env.GITHUB_ACTIONS === "true";
}
