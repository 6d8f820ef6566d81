// Bundles our own code (dependencies stay external and load lazily) so the CLI starts fast without a loader.
// dist/cli.js and dist/index.js share chunks; the offline commands that run on every leg (verify, cat,
// packages...) are also built as one file each, commander included, since loading 40 chunks and a
// CommonJS package cost more than Node's own start (bin/cloud-images.js picks the file).
// The built-in policies (JSON data) are read at run time from beside the bundle.
import { cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Old chunks must not linger beside new ones.
rmSync("dist", { recursive: true, force: true });

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
// Each a single CommonJS file, run by dist/launch.js through vm.Script with V8's code cache (Node 20 has
// no compile cache for ES modules). What a command imports lazily (the policy file parser with yaml and
// zod, the filesystem readers) stays lazy: esbuild turns those imports into functions that initialise the
// module, and its packages' require() calls, on first use.
for (const [name, entry] of Object.entries(entries)) {
  await build({
    ...common,
    format: "cjs",
    entryPoints: { [name]: entry },
    outdir: "dist",
    outExtension: { ".js": ".cjs" },
    external: Object.keys(dependencies).filter((d) => d !== "commander"),
    define: { "import.meta.url": "__bundleUrl" },
    banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}
await build({ ...common, entryPoints: { launch: "src/cli/launch.ts" }, outdir: "dist" });
cpSync("src/policy/policies", "dist/policies", { recursive: true });
