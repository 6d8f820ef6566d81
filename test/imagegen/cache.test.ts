// The cache under concurrency: several processes asking for one image build it once; stale locks and
// dead builders' temp directories do not block anyone.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneStale } from "../../imagegen/cache.js";
import type { ImageSpec } from "../../imagegen/index.js";
import { runCommand } from "../helpers/process.js";
import { tempDir } from "./oracles.js";

const INDEX = fileURLToPath(new URL("../../imagegen/index.ts", import.meta.url));
let tmp: string;
let cache: string;
let script: string;

beforeAll(() => {
  tmp = tempDir("cache");
  cache = join(tmp, "cache");
  script = join(tmp, "build.mts");
  writeFileSync(
    script,
    [
      `import { buildImage, imageKey } from ${JSON.stringify(INDEX)};`,
      "const spec = JSON.parse(process.argv[2]);",
      "const logs = [];",
      "const img = await buildImage(spec, { log: (l) => logs.push(l) });",
      "console.log(JSON.stringify({ dir: img.dir, key: imageKey(spec), built: logs.length > 0, seconds: img.buildSeconds }));",
    ].join("\n"),
  );
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function specWith(marker: string): ImageSpec {
  return {
    arch: "x86_64",
    el: "9",
    release: "9.6",
    rootfs: "xfs",
    formats: ["raw"],
    layout: "bare",
    diskSize: "512M",
    packages: [],
    extraFiles: { "/etc/marker": marker },
  };
}

interface ChildOut {
  dir: string;
  key: string;
  built: boolean;
  seconds: number;
}

async function runBuilder(spec: ImageSpec, env: NodeJS.ProcessEnv = {}): Promise<ChildOut> {
  const r = await runCommand(process.execPath, ["--import", "tsx", script, JSON.stringify(spec)], {
    env: { IMAGEGEN_CACHE: cache, ...env },
  });
  if (r.code !== 0) throw new Error(`builder: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function deadPid(): number {
  return spawnSync("true").pid!;
}

describe("pruneStale", () => {
  it("removes complete entries of other builder source older than ten minutes, nothing else", () => {
    const root = join(tmp, "prune");
    const entry = (name: string, source: string | null, ageMin: number) => {
      mkdirSync(join(root, name), { recursive: true });
      if (source === null) return;
      const marker = join(root, name, "built.json");
      writeFileSync(marker, JSON.stringify({ builderSource: source }));
      const t = new Date(Date.now() - ageMin * 60_000);
      utimesSync(marker, t, t);
    };
    const hex = (c: string) => c.repeat(64);
    entry(hex("a"), "old", 60); // stale: goes
    entry(hex("b"), "old", 1); // stale but fresh: may be in use, stays
    entry(hex("c"), "current", 60); // current: stays
    entry(hex("d"), null, 60); // incomplete: someone is building, stays
    entry(".tmp-aaaa-1-x", "old", 60); // not an entry name: stays
    pruneStale(root, "current");
    expect(readdirSync(root).sort()).toEqual([".tmp-aaaa-1-x", hex("b"), hex("c"), hex("d")]);
  });
});

describe("image cache", () => {
  it("builds once when three processes ask at the same time", async () => {
    const spec = specWith(`concurrent ${Date.now()}`);
    const outs = await Promise.all([runBuilder(spec), runBuilder(spec), runBuilder(spec)]);
    expect(outs.filter((o) => o.built).length).toBe(1);
    expect(new Set(outs.map((o) => o.dir)).size).toBe(1);
    expect(new Set(outs.map((o) => o.seconds)).size).toBe(1);
    expect(outs[0]!.dir).toBe(join(cache, outs[0]!.key));
    // the image's entry and its filesystems' (stage) entry: no temp directories or locks left
    const left = readdirSync(cache);
    expect(left).toContain(outs[0]!.key);
    expect(left).toHaveLength(2);
    for (const name of left) expect(existsSync(join(cache, name, "built.json"))).toBe(true);
  });

  it("ignores a stale lock and sweeps a dead builder's temp and staging directories", async () => {
    const spec = specWith(`stale ${Date.now()}`);
    // the key of `spec` as the builder computes it, from a child (same code path)
    const keyScript = join(tmp, "key.mts");
    writeFileSync(
      keyScript,
      `import { imageKey } from ${JSON.stringify(INDEX)};\nconsole.log(imageKey(JSON.parse(process.argv[2])));\n`,
    );
    const key = spawnSync(process.execPath, ["--import", "tsx", keyScript, JSON.stringify(spec)], {
      encoding: "utf8",
    }).stdout.trim();
    const dead = deadPid();
    writeFileSync(join(cache, `${key}.lock`), String(dead));
    const junk = join(cache, `.tmp-${key.slice(0, 16)}-${dead}-abcdef`);
    mkdirSync(junk);
    const staging = join(tmp, "staging");
    const deadStaging = join(staging, `imagegen-${dead}-xyz`);
    mkdirSync(join(deadStaging, "root/etc"), { recursive: true });
    const out = await runBuilder(spec, { IMAGEGEN_TMPDIR: staging });
    expect(out.built).toBe(true);
    expect(out.key).toBe(key);
    expect(existsSync(junk)).toBe(false);
    expect(readdirSync(staging)).toEqual([]);
    expect(existsSync(join(cache, `${key}.lock`))).toBe(false);
  });
});
