// Bundles our own code (dependencies stay external and load lazily) so the CLI starts fast without a loader.
// dist/cli.js and dist/index.js share chunks; the offline commands that run on every leg (verify, cat,
// packages...) are also built as one file each (plus the chunks of what they import lazily, dist/lazy/),
// commander included, since loading 40 chunks and a CommonJS package cost more than Node's own start
// (bin/cloud-images.js picks the file).
// The built-in policies (JSON data) are read at run time from beside the bundle.
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: { cli: "src/cli/main.ts", index: "src/index.ts" },
  outdir: "dist",
  splitting: true,
  packages: "external",
});

const { dependencies } = JSON.parse(readFileSync("package.json", "utf8"));
const entries = Object.fromEntries(
  readdirSync("src/cli/entries")
    .filter((f) => f.endsWith(".ts"))
    .map((f) => [`cli-${f.slice(0, -3)}`, `src/cli/entries/${f}`]),
);
// Each built apart with splitting, so that what its command imports lazily (the policy file parser with
// yaml and zod, the filesystem readers) stays in chunks of its own (dist/lazy/) that load only when used:
// without splitting esbuild inlines a dynamic import and hoists its packages' imports to the file's top,
// and every verify paid for loading yaml and zod.
for (const [name, entry] of Object.entries(entries)) {
  await build({
    ...common,
    entryPoints: { [name]: entry },
    outdir: "dist",
    splitting: true,
    chunkNames: `lazy/${name}-[name]-[hash]`,
    external: Object.keys(dependencies).filter((d) => d !== "commander"),
    // commander is CommonJS and requires Node's built-ins
    banner: {
      js: 'import { createRequire as bundleRequire } from "node:module"; const require = bundleRequire(import.meta.url);',
    },
  });
}
cpSync("src/policy/policies", "dist/policies", { recursive: true });
