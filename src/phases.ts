/**
 * Where a run's time goes, phase by phase: the library marks its phases, the CLI prints them with
 * CLOUD_IMAGES_STATS=1 (so the next slowdown shows where it is). A mark is two clock reads, so it is
 * always on. Phases may nest (a header's digests inside the rpm database walk); each is a total.
 */
const spent = new Map<string, number>();

/**
 * Milliseconds since the process started. process.uptime() rather than performance.now(): the first use
 * of `performance` loads Node's perf_hooks (about 1.5 ms of each start here).
 */
export function msSinceStart(): number {
  return process.uptime() * 1000;
}

/** Adds `ms` to phase `name`. */
export function addPhase(name: string, ms: number): void {
  spent.set(name, (spent.get(name) ?? 0) + ms);
}

export function timed<T>(name: string, fn: () => T): T {
  const t = msSinceStart();
  try {
    return fn();
  } finally {
    addPhase(name, msSinceStart() - t);
  }
}

export async function timedAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = msSinceStart();
  try {
    return await fn();
  } finally {
    addPhase(name, msSinceStart() - t);
  }
}

/** Milliseconds per phase, in the order phases were first marked. */
export function phaseTimes(): ReadonlyMap<string, number> {
  return spent;
}
