/**
 * Filesystem images shaped by the kernel through a loop mount (root only), and a cache for them: an
 * image and the answers its builder recorded (what the kernel or a tool said about it) are kept under
 * .cache/<kind>/<name>-<hash of the recipe and the tool versions>/.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CACHE = fileURLToPath(new URL("../../.cache/", import.meta.url));

/** Runs `fn` with the image loop-mounted at a temporary directory, unmounting afterwards. */
export function withLoopMount<T>(image: string, options: string, fn: (mnt: string) => T): T {
  const mnt = mkdtempSync(join(tmpdir(), "loop-mnt-"));
  execFileSync("mount", ["-o", `loop,${options}`, image, mnt], { stdio: "pipe" });
  try {
    return fn(mnt);
  } finally {
    execFileSync("umount", [mnt], { stdio: "pipe" });
    rmSync(mnt, { recursive: true, force: true });
  }
}

/** Why loop mounts (and the `tools` a test needs) cannot work here, or undefined when they might. */
export function loopMountUnavailable(tools: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root (loop mounts need it)";
  for (const tool of tools) {
    try {
      execFileSync("which", [tool], { stdio: "pipe" });
    } catch {
      return `${tool} is missing`;
    }
  }
  return undefined;
}

/**
 * The image `recipe` describes under .cache/`kind`, from the cache or built by `build(imagePath)`,
 * whose result (JSON) is kept beside it as the image's answers.
 */
export function cachedToolImage<T>(
  kind: string,
  name: string,
  recipe: unknown,
  build: (image: string) => T,
): { path: string; answers: T } {
  const tools = execFileSync(
    "sh",
    ["-c", "mkfs.xfs -V; mke2fs -V 2>&1; mkfs.fat --help 2>&1 | head -1; uname -r"],
    {
      encoding: "utf8",
    },
  );
  const key = createHash("sha256").update(JSON.stringify({ recipe, tools })).digest("hex").slice(0, 20);
  const entry = join(CACHE, kind, `${name}-${key}`);
  const path = join(entry, "fs.img");
  const answersPath = join(entry, "answers.json");
  const load = () => ({ path, answers: JSON.parse(readFileSync(answersPath, "utf8")) as T });
  if (existsSync(answersPath)) return load();
  mkdirSync(join(CACHE, kind), { recursive: true });
  const staging = `${entry}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    const answers = build(join(staging, "fs.img"));
    writeFileSync(join(staging, "answers.json"), JSON.stringify(answers ?? null));
    try {
      renameSync(staging, entry);
    } catch {
      // Another test file finished the same image first: use its copy.
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return load();
}
