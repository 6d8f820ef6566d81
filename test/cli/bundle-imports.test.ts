/**
 * The single-file builds of the commands every leg runs (dist/cli-NAME.js, scripts/build.mjs) load no
 * package at start that only a lazily imported part needs: yaml and zod (the policy file parser) cost
 * ~150 ms of CPU per verify when esbuild hoisted them to the top of dist/cli-verify.js.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist", import.meta.url));

/** The bare package names a module loads before it runs: its static imports, followed through our chunks. */
function packagesAtStart(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)"|^import\s*"([^"]+)"/gms)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith(".")) {
      for (const p of packagesAtStart(join(dirname(file), spec), seen)) out.add(p);
    } else if (!spec.startsWith("node:")) out.add(spec);
  }
  return out;
}

it.each(["verify", "cat", "ls", "inspect", "packages", "sbom"])(
  "dist/cli-%s.js loads no yaml or zod at start",
  (name) => {
    const packages = packagesAtStart(join(DIST, `cli-${name}.js`));
    expect([...packages].filter((p) => p === "yaml" || p === "zod")).toEqual([]);
  },
);

it("the policy file parser (yaml, zod) is a lazy chunk of dist/cli-verify.js", () => {
  const text = readFileSync(join(DIST, "cli-verify.js"), "utf8");
  const lazy = [...text.matchAll(/import\("(\.\/lazy\/[^"]+)"\)/g)].map((m) => m[1]!);
  const parser = lazy.filter((p) => p.includes("policy-file"));
  expect(parser).toHaveLength(1);
  expect(packagesAtStart(join(DIST, parser[0]!))).toContain("yaml");
});
