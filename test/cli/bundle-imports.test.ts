/**
 * The single-file builds of the commands every leg runs (dist/cli-NAME.cjs, scripts/build.mjs) load no
 * package at start that only a lazily imported part needs: yaml and zod (the policy file parser) cost
 * ~150 ms of CPU per verify when esbuild hoisted them to the top of the verify bundle. Checked at run
 * time: a preloaded hook lists the packages in require's cache, and whether any ES module ran, when the
 * process exits.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "bundle-imports-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOOK = join(tmp, "packages-at-exit.cjs");
writeFileSync(
  HOOK,
  `process.on("exit", () => {
  const names = new Set();
  for (const f of Object.keys(require.cache)) {
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f);
    if (m) names.add(m[1]);
  }
  process.stderr.write("PACKAGES " + JSON.stringify([...names].sort()) + "\\n");
  const esm = process.moduleLoadList.includes("NativeModule internal/modules/esm/module_job");
  process.stderr.write("ES_MODULE_RUN " + esm + "\\n");
});
`,
);

async function atExit(args: string[], what: string): Promise<string> {
  const r = await runCli(args, { env: { NODE_OPTIONS: `--require ${HOOK}` } });
  const line = new RegExp(`^${what} (.*)$`, "m").exec(r.stderr);
  if (!line) throw new Error(`no ${what} line (exit ${r.code}): ${r.stderr}`);
  return line[1]!;
}

/** The packages a CLI run loaded (through require, as the CommonJS bundles load them). */
async function packagesLoaded(args: string[]): Promise<string[]> {
  return JSON.parse(await atExit(args, "PACKAGES")) as string[];
}

/** Whether a CLI run ran any ES module (Node loads its module job code for the first one). */
async function ranEsModule(args: string[]): Promise<boolean> {
  return (await atExit(args, "ES_MODULE_RUN")) === "true";
}

it.each(["verify", "cat", "ls", "inspect", "packages", "sbom"])(
  "cloud-images %s loads no yaml or zod at start",
  async (name) => {
    const packages = await packagesLoaded([name, "--help"]);
    expect(packages.filter((p) => p === "yaml" || p === "zod")).toEqual([]);
  },
);

it("verify loads yaml and zod when given a policy file (the lazy part still loads)", async () => {
  const policy = join(tmp, "site.yaml");
  writeFileSync(policy, "policy: 1\nchecks: {}\n");
  const leg = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];
  const packages = await packagesLoaded(["verify", join(tmp, "missing.img"), ...leg, "--policy", policy]);
  expect(packages).toEqual(expect.arrayContaining(["yaml", "zod"]));
});

// fzstd costs about 2.5 ms of each start: only an image whose compression type is zstd loads it.
it("inspect loads fzstd for a zstd qcow2 image only, and can (the build keeps it lazy, not import())", async () => {
  const zlib = join(tmp, "zlib.qcow2");
  const zstd = join(tmp, "zstd.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", zlib, "1M"]);
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "compression_type=zstd", zstd, "1M"]);
  expect(await packagesLoaded(["inspect", zlib])).not.toContain("fzstd");
  // The empty image has no filesystem to inspect: it is opened, which is what loads fzstd.
  expect(await packagesLoaded(["inspect", zstd])).toContain("fzstd");
});

// bin/cloud-images.js is CommonJS so that these commands run no ES module: Node's ES module loading
// costs about 10 ms of each start here.
it.each(["verify", "cat"])("cloud-images %s runs no ES module", async (name) => {
  expect(await ranEsModule([name, "--help"])).toBe(false);
});

it("the other commands run dist/cli.js, an ES module", async () => {
  expect(await ranEsModule(["publish", "--help"])).toBe(true);
});
