/**
 * What the filesystem fuzz tests share: a bounded walk through everything a reader offers, and the
 * loop that runs mutated cases against a time limit and tallies how each ended.
 */
import type { ByteSource } from "../../src/disk/source.js";
import { isCloudImagesError } from "../../src/errors.js";
import type { Filesystem } from "../../src/fs/types.js";

/**
 * Reads the clean state, walks every directory once (up to `maxEntries` entries), stats every entry,
 * reads symlinks, three windows of every file and every entry's extended attributes.
 */
export async function exerciseFilesystem(fs: Filesystem, maxEntries = 20000): Promise<void> {
  await fs.cleanState();
  const seen = new Set<number>();
  const queue = [fs.rootIno];
  let entries = 0;
  while (queue.length > 0) {
    const ino = queue.shift()!;
    if (seen.has(ino)) continue;
    seen.add(ino);
    for (const e of await fs.readDir(ino)) {
      if (++entries > maxEntries) return;
      const st = await fs.stat(e.ino);
      if (st.type === "dir") queue.push(e.ino);
      else if (st.type === "symlink") await fs.readLink(e.ino);
      else if (st.type === "file") {
        for (const at of [0, Math.floor(st.size / 2), Math.max(0, st.size - 65536)])
          await fs.read(e.ino, at, 65536);
      }
      await fs.listXattrs(e.ino);
    }
  }
}

export interface FuzzTally {
  iterations: number;
  /** Cases that ended in a CloudImagesError. */
  rejected: number;
  /** Cases that hung or threw anything else, with their description. */
  failures: string[];
  slowest: { ms: number; what: string };
}

/**
 * Runs case after case for `seconds`: `nextCase(i)` gives the i-th mutated source and its description,
 * `exercise` must end within `limitMs` in success or a CloudImagesError.
 */
export async function fuzzFor(
  seconds: number,
  limitMs: number,
  nextCase: (i: number) => { source: ByteSource; what: string },
  exercise: (source: ByteSource) => Promise<void>,
): Promise<FuzzTally> {
  const tally: FuzzTally = { iterations: 0, rejected: 0, failures: [], slowest: { ms: 0, what: "" } };
  const deadline = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < deadline; i++) {
    const { source, what } = nextCase(i);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      exercise(source).then(
        () => "ok",
        (e: unknown) => e,
      ),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve("timeout"), limitMs);
      }),
    ]);
    clearTimeout(timer);
    const ms = performance.now() - started;
    tally.iterations++;
    if (ms > tally.slowest.ms) tally.slowest = { ms, what };
    if (outcome === "timeout") tally.failures.push(`${what}: no result after ${limitMs} ms`);
    else if (outcome !== "ok") {
      if (isCloudImagesError(outcome)) tally.rejected++;
      else tally.failures.push(`${what}: ${(outcome as Error)?.stack ?? String(outcome)}`);
    }
  }
  return tally;
}
