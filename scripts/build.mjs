// Bundles our own code (dependencies stay external and load lazily) so the CLI starts fast without a loader.
// dist/cli.js and dist/index.js share chunks; the offline commands that run on every leg (verify, cat,
// packages...) are also built as one file each, commander included, since loading 40 chunks and a
// CommonJS package cost more than Node's own start (bin/cloud-images.js picks the file).
// The built-in policies (JSON data) are read at run time from beside the bundle.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { build } from "esbuild";

// Old chunks must not linger beside new ones; only the build's own files go (dist/ also holds the default
// file store, dist/bucket, and the demo's release keys).
for (const f of existsSync("dist") ? readdirSync("dist") : []) {
  if (/\.(c?js|map)$/.test(f) || f === "lazy" || f === "policies")
    rmSync(`dist/${f}`, { recursive: true, force: true });
}

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
// Node's own modules that a single-command build only sometimes needs load on first use instead of at
// start (8 ms of every verify): child_process (commander's executable subcommands, src/process) and zlib
// (compressed qcow2 clusters). Bundled code reaches them by property (`ns.spawn(...)`, esbuild's import
// namespaces copy the names with getters), so a proxy that knows the names (taken from this Node at build
// time) and loads the module on the first property read stands in for each.
const LAZY_BUILTINS = ["child_process", "zlib"];
const require = createRequire(import.meta.url);
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === "lazy-builtin"
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      loader: "js",
      contents: `const names = ${JSON.stringify(Object.keys(require(`node:${args.path}`)))};
let real;
const load = () => (real ??= require("node:${args.path}"));
module.exports = new Proxy({}, {
  get: (_, key) => (key === "__esModule" ? undefined : load()[key]),
  has: (_, key) => names.includes(key),
  ownKeys: () => names,
  getOwnPropertyDescriptor: (_, key) =>
    names.includes(key) ? { configurable: true, enumerable: true, writable: false, value: undefined } : undefined,
});
`,
    }));
  },
};

// Each a single CommonJS file, run by dist/launch.cjs through vm.Script with V8's code cache (Node 20 has
// no compile cache for ES modules). What a command imports lazily (the policy file parser with yaml and
// zod, the filesystem readers) stays lazy: esbuild turns those imports into functions that initialise the
// module, and its packages' require() calls, on first use.
const commonJs = { ...common, format: "cjs", outdir: "dist", outExtension: { ".js": ".cjs" } };
for (const [name, entry] of Object.entries(entries)) {
  await build({
    ...commonJs,
    entryPoints: { [name]: entry },
    external: Object.keys(dependencies).filter((d) => d !== "commander"),
    define: { "import.meta.url": "__bundleUrl" },
    plugins: [lazyBuiltins],
    banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}
await build({ ...commonJs, entryPoints: { launch: "src/cli/launch.ts" } });
cpSync("src/policy/policies", "dist/policies", { recursive: true });
