/**
 * Generated ext4 images cached under .cache/ext4/, keyed by a hash of their recipe (the recipe object,
 * the source-tree generator's code and the e2fsprogs version), built at most a few at a time.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const CACHE = new URL("../../../.cache/ext4/", import.meta.url).pathname;
const TREE_SOURCE = new URL("./tree.ts", import.meta.url).pathname;
const E2FSPROGS = spawnSync("mke2fs", ["-V"], { encoding: "utf8" }).stderr;

const execFileAsync = promisify(execFile);

export async function runAsync(cmd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  return stdout;
}

/** e2fsck: -fyD re-indexes directories (exit 1 = changes made), -fn only checks (must be clean). */
export async function fsck(img: string, reindex: boolean): Promise<void> {
  try {
    await execFileAsync("e2fsck", [reindex ? "-fyD" : "-fn", img], { encoding: "utf8" });
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    if (!(reindex && err.code === 1))
      throw new Error(`e2fsck ${reindex ? "-fyD" : "-fn"} ${img}: exit ${err.code}\n${err.stdout}`);
  }
}

let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= availableParallelism()) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The path of the image `recipe` describes, building it with `build(path)` if it is not cached. */
export function cachedImage(recipe: unknown, build: (img: string) => Promise<void>): Promise<string> {
  const key = createHash("sha256")
    .update(JSON.stringify(recipe))
    .update(readFileSync(TREE_SOURCE))
    .update(E2FSPROGS)
    .digest("hex")
    .slice(0, 20);
  const path = join(CACHE, `${key}.img`);
  if (existsSync(path)) return Promise.resolve(path);
  return limited(async () => {
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    try {
      await build(tmp);
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
    return path;
  });
}
