/**
 * Inside a fuzz worker: runs one case and tallies it into the phase summary. Kept apart from
 * fuzz-worker.ts, which the workers cannot bundle (it imports esbuild).
 */
import { isCloudImagesError } from "../../src/errors.js";
import type { FuzzPhaseSummary } from "./fuzz-worker.js";

export function emptyPhaseSummary(): FuzzPhaseSummary {
  return { iterations: 0, outcomes: {}, slowest: { ms: 0, description: "" }, crashes: [] };
}

/**
 * The case's outcome is what `attempt` returns, or the class name of the CloudImagesError it throws;
 * anything else thrown is a crash, kept with its stack. Also keeps the slowest case.
 */
export async function recordCase(
  summary: FuzzPhaseSummary,
  description: string,
  attempt: () => string | Promise<string>,
): Promise<void> {
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = await attempt();
  } catch (e) {
    if (isCloudImagesError(e)) outcome = e.constructor.name;
    else {
      outcome = "crash";
      summary.crashes.push(`${description}\n${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  const ms = performance.now() - t0;
  summary.iterations++;
  summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
  if (ms > summary.slowest.ms) summary.slowest = { ms, description };
}
