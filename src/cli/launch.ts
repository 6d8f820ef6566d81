/**
 * Runs a single-command bundle (dist/cli-NAME.cjs) the way Node runs a CommonJS file, but through
 * vm.Script with V8's code cache: the first run saves the bytecode of every function it compiled, and
 * later runs skip parsing and compiling them (Node 22's module.enableCompileCache, which Node 20 lacks).
 * About 20 ms of each verify on the benchmark image here (of some 330 ms).
 *
 * The cache lives in `$CLOUD_IMAGES_CACHE_DIR`, else `$XDG_CACHE_HOME/cloud-images`, else
 * `~/.cache/cloud-images`, under code/, one file per bundle content and Node version (older ones are
 * removed when a new one is written). `CLOUD_IMAGES_CODE_CACHE=off` turns it off. Nothing here may make a
 * command fail: an unreadable, unwritable or rejected cache only means compiling as usual.
 */
import { hash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { cacheDir } from "../state.js";
import { type CodeCacheUse, setCodeCacheUse } from "./code-cache-use.js";

/** Runs the CommonJS bundle at `file` in this process. */
export function launch(file: string, env: NodeJS.ProcessEnv = process.env): void {
  // Hashed as bytes: hashing the decoded string costs another 6 ms (it is encoded again).
  const bytes = readFileSync(file);
  const source = bytes.toString("utf8");
  const cacheFile = env.CLOUD_IMAGES_CODE_CACHE === "off" ? null : cachePath(file, bytes, env);
  const cached = cacheFile === null ? undefined : readOrUndefined(cacheFile);
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new Script(wrapped, { filename: file, cachedData: cached });
  const use: CodeCacheUse =
    cacheFile === null
      ? "off"
      : cached === undefined
        ? "miss"
        : script.cachedDataRejected
          ? "rejected"
          : "hit";
  setCodeCacheUse(use);
  if (use === "miss" || use === "rejected") {
    // At exit the script has compiled what this command needed: that is what the next run reuses.
    process.once("exit", () => save(cacheFile!, script));
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

/** The cache file for this bundle's content under this Node (V8 rejects another version's cache). */
function cachePath(file: string, bytes: Buffer, env: NodeJS.ProcessEnv): string {
  const name = file.replace(/^.*[\\/]/, "").replace(/\.c?js$/, "");
  const content = hash("sha256", bytes, "hex");
  const key = hash("sha256", `${process.version}\0${process.arch}\0${content}`, "hex").slice(0, 16);
  return join(cacheDir(env), "code", `${name}-${key}.v8`);
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes the cache atomically and removes the same bundle's older caches; any failure is ignored. */
function save(path: string, script: Script): void {
  try {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, path);
    const base = path.slice(dir.length + 1);
    const prefix = base.slice(0, base.lastIndexOf("-") + 1);
    for (const other of readdirSync(dir)) {
      if (other !== base && other.startsWith(prefix) && other.endsWith(".v8")) unlinkSync(join(dir, other));
    }
  } catch {
    // a cache that cannot be written is only a slower next start
  }
}
