/**
 * The launcher of the single-command bundles (src/cli/launch.ts, dist/launch.cjs): V8's code cache is
 * written by the first run, used by the next, replaced when rejected or when the bundle changes, and
 * never makes a command fail.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "../helpers/cli.js";
import { runCommand } from "../helpers/process.js";

const tmp = mkdtempSync(join(tmpdir(), "launch-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LAUNCH = join(REPO_ROOT, "dist/launch.cjs");

/** A CommonJS bundle that prints its arguments, its module globals and what the launcher did. */
function bundle(name: string, extra = ""): string {
  const file = join(tmp, `${name}.cjs`);
  writeFileSync(
    file,
    `${extra}
const use = globalThis[Symbol.for("cloud-images.code-cache")];
const { basename } = require("node:path");
console.log(JSON.stringify({ use, file: basename(__filename), dir: __dirname === require("node:path").dirname(__filename), exportsIsThis: this === module.exports }));
`,
  );
  return file;
}

async function launch(file: string, env: NodeJS.ProcessEnv) {
  const r = await runCommand(
    process.execPath,
    ["-e", `require(${JSON.stringify(LAUNCH)}).launch(process.argv[1]);`, file],
    { env },
  );
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { use: string; file: string; dir: boolean; exportsIsThis: boolean };
}

const cacheFiles = (dir: string) => (existsSync(join(dir, "code")) ? readdirSync(join(dir, "code")) : []);

describe("launch", () => {
  it("runs the bundle as CommonJS; the first run writes the cache, the next uses it", async () => {
    const dir = join(tmp, "c1");
    const file = bundle("one");
    const first = await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir });
    expect(first).toEqual({ use: "miss", file: "one.cjs", dir: true, exportsIsThis: true });
    expect(cacheFiles(dir)).toEqual([expect.stringMatching(/^one-[0-9a-f]{16}\.v8$/)]);
    expect((await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir })).use).toBe("hit");
  });

  it("a damaged cache is rejected, the run goes on, and the cache is written anew", async () => {
    const dir = join(tmp, "c2");
    const file = bundle("two");
    await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir });
    const [cache] = cacheFiles(dir);
    writeFileSync(join(dir, "code", cache!), Buffer.alloc(4096, 0x5a));
    expect((await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir })).use).toBe("rejected");
    expect((await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir })).use).toBe("hit");
  });

  it("a changed bundle gets a cache of its own and the old one is removed", async () => {
    const dir = join(tmp, "c3");
    const file = bundle("three");
    await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir });
    const before = cacheFiles(dir);
    bundle("three", "// changed");
    expect((await launch(file, { CLOUD_IMAGES_CACHE_DIR: dir })).use).toBe("miss");
    const after = cacheFiles(dir);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });

  it("CLOUD_IMAGES_CODE_CACHE=off reads and writes nothing", async () => {
    const dir = join(tmp, "c4");
    expect(
      (await launch(bundle("four"), { CLOUD_IMAGES_CACHE_DIR: dir, CLOUD_IMAGES_CODE_CACHE: "off" })).use,
    ).toBe("off");
    expect(existsSync(dir)).toBe(false);
  });

  it("a cache directory that cannot be written only costs the cache", async () => {
    const blocker = join(tmp, "not-a-dir");
    writeFileSync(blocker, "");
    expect((await launch(bundle("five"), { CLOUD_IMAGES_CACHE_DIR: join(blocker, "cache") })).use).toBe(
      "miss",
    );
    const readOnly = join(tmp, "read-only");
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    // root writes anyway; either way the command succeeds (launch() checks exit 0 and empty stderr)
    await launch(bundle("six"), { CLOUD_IMAGES_CACHE_DIR: readOnly });
  });
});

describe("the CLI through the launcher", () => {
  it("prints the same when the cache is written, when it is used and when it is off", async () => {
    const env = { CLOUD_IMAGES_CACHE_DIR: join(tmp, "cli") };
    const first = await runCli(["verify", "--help"], { env });
    expect(cacheFiles(env.CLOUD_IMAGES_CACHE_DIR)).toEqual([
      expect.stringMatching(/^cli-verify-[0-9a-f]{16}\.v8$/),
    ]);
    const second = await runCli(["verify", "--help"], { env });
    const off = await runCli(["verify", "--help"], { env: { ...env, CLOUD_IMAGES_CODE_CACHE: "off" } });
    expect(first.code).toBe(0);
    expect(second).toEqual(first);
    expect(off).toEqual(first);
  });

  it("a usage error still exits 2 with the one-line message", async () => {
    const r = await runCli(["verify"], { env: { CLOUD_IMAGES_CACHE_DIR: join(tmp, "cli2") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cloud-images: .*\(see: cloud-images verify --help\)\n$/);
  });
});
