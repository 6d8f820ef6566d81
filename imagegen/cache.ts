/**
 * The image cache: one directory per cache key under .cache/imagegen/, complete once `built.json` is in
 * it. Builders write into a private temp directory and rename it into place, so a reader never sees a half
 * image; a lock file (pid inside, stale when that process is gone) keeps concurrent vitest workers from
 * building the same image twice.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError } from "../src/errors.js";

export const DEFAULT_CACHE_ROOT = fileURLToPath(new URL("../.cache/imagegen/", import.meta.url));
export const MARKER = "built.json";

const POLL_MS = 250;
const WAIT_LIMIT_MS = 60 * 60 * 1000;

export function cacheRoot(): string {
  return process.env.IMAGEGEN_CACHE || DEFAULT_CACHE_ROOT;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(lock, "utf8"));
    } catch {
      continue; // released meanwhile
    }
    // a lock without a pid yet is being written; one whose process is gone is stale
    if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new EnvironmentError(`imagegen: gave up waiting for ${lock}`);
    await sleep(POLL_MS);
  }
}

/** Temp directories of builders that died: `.tmp-<key>-<pid>-*` whose pid is gone. */
function sweepDead(root: string): void {
  for (const name of readdirSync(root)) {
    const m = /^\.tmp-[0-9a-f]+-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(root, name), { recursive: true, force: true });
  }
}

/** Entries are left alone this long after they were built, in case a running test still reads them. */
const PRUNE_AFTER_MS = 10 * 60 * 1000;

/**
 * Removes complete entries made by other builder source (their keys can never be asked for again by
 * this checkout): images are large, and every edit of the builder changes every key.
 */
export function pruneStale(root: string, currentSource: string): void {
  for (const name of readdirSync(root)) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const marker = join(root, name, MARKER);
    try {
      const st = statSync(marker);
      if (Date.now() - st.mtimeMs < PRUNE_AFTER_MS) continue;
      const { builderSource } = JSON.parse(readFileSync(marker, "utf8")) as { builderSource?: string };
      if (builderSource !== currentSource) rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // incomplete or unreadable: another builder's business
    }
  }
}

/**
 * Returns the complete cache directory for `key`, running `build(tmpDir)` first when it is missing.
 * `build` must leave MARKER in tmpDir as its last act.
 */
export async function cached(
  key: string,
  build: (tmpDir: string) => Promise<void>,
  root = cacheRoot(),
): Promise<string> {
  const final = join(root, key);
  if (existsSync(join(final, MARKER))) return final;
  mkdirSync(root, { recursive: true });
  const lock = join(root, `${key}.lock`);
  await acquire(lock);
  try {
    if (existsSync(join(final, MARKER))) return final;
    sweepDead(root);
    const tmp = mkdtempSync(join(root, `.tmp-${key.slice(0, 16)}-${process.pid}-`));
    try {
      await build(tmp);
      rmSync(final, { recursive: true, force: true }); // an incomplete leftover
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (existsSync(join(final, MARKER))) return final; // someone else finished it
      throw e;
    }
    return final;
  } finally {
    rmSync(lock, { force: true });
  }
}
