import { msSinceStart, phaseTimes } from "../phases.js";
import { codeCacheUse } from "./code-cache-use.js";

/**
 * CLOUD_IMAGES_STATS=1: one line of figures on stderr (for benchmarks): how much of the image was read,
 * what the launcher did with V8's code cache (hit, miss, rejected, off), and the milliseconds of each
 * phase so far (`ms.start`: Node's start and the CLI's loading).
 */
export function printStats(figures: Record<string, number | string>): void {
  if (process.env.CLOUD_IMAGES_STATS !== "1") return;
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  parts.push(`codeCache=${codeCacheUse()}`);
  for (const [phase, ms] of phaseTimes()) parts.push(`ms.${phase}=${ms.toFixed(1)}`);
  parts.push(`ms.total=${msSinceStart().toFixed(1)}`);
  process.stderr.write(`cloud-images: stats: ${parts.join(" ")}\n`);
}
