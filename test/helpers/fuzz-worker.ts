/**
 * Bundles fuzz workers and runs them under a watchdog. The worker posts `{type: "case", label}` before
 * each case, `{type: "summary", summary}` after each phase and `{type: "done"}` at the end; a case that
 * makes no progress for `watchdogMs` (a hang) or a worker that dies fails the test, naming the case.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";

export type FuzzWorkerMessage<S> =
  | { type: "case"; label: string }
  | { type: "summary"; summary: S }
  | { type: "done" };

/** What every fuzz phase reports. */
export interface FuzzPhaseSummary {
  iterations: number;
  outcomes: Record<string, number>;
  slowest: { ms: number; description: string };
  crashes: string[];
}

export async function runFuzzWorker<S>(
  file: string | URL,
  workerData: unknown,
  options: { watchdogMs: number; maxOldGenerationSizeMb: number },
): Promise<S[]> {
  const worker = new Worker(file, {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb },
  });
  const summaries: S[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let current = "start";
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(
          () => reject(new Error(`no progress for ${options.watchdogMs} ms in case ${current}`)),
          options.watchdogMs,
        );
      };
      arm();
      worker.on("message", (m: FuzzWorkerMessage<S>) => {
        if (m.type === "case") current = m.label;
        else if (m.type === "summary") summaries.push(m.summary);
        else {
          clearTimeout(timer);
          resolve();
          return;
        }
        arm();
      });
      worker.on("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`the worker died in case ${current}: ${e.message}`));
      });
    });
  } finally {
    await worker.terminate();
  }
  return summaries;
}

/**
 * Bundles a TypeScript worker into one ESM file that a Worker can load. With `externalPackages`, npm
 * packages stay imports, so the output must sit inside the repository to resolve them.
 */
export async function bundleWorker(entry: URL, outfile: string, externalPackages: boolean): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    ...(externalPackages ? { packages: "external" as const } : {}),
    logLevel: "warning",
  });
}
