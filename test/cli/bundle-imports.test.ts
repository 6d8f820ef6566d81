/**
 * The single-file builds of the commands every leg runs (dist/cli-NAME.cjs, scripts/build.mjs) load no
 * package at start that only a lazily imported part needs: yaml and zod (the policy file parser) cost
 * ~150 ms of CPU per verify when esbuild hoisted them to the top of the verify bundle. Checked at run
 * time: a preloaded hook lists the packages in require's cache when the process exits.
 */
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
});
`,
);

/** The packages a CLI run loaded (through require, as the CommonJS bundles load them). */
async function packagesLoaded(args: string[]): Promise<string[]> {
  const r = await runCli(args, { env: { NODE_OPTIONS: `--require ${HOOK}` } });
  const line = /^PACKAGES (.*)$/m.exec(r.stderr);
  if (!line) throw new Error(`no PACKAGES line (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line[1]!) as string[];
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
