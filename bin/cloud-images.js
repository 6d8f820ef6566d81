#!/usr/bin/env node
// CommonJS (bin/package.json says so): Node starts a CommonJS entry without its ES module loader, which
// the single-command builds below never need (about 10 ms of every verify here).
// The command is the first argument that is not an option (as the CLI itself picks it); the offline
// commands run on every leg have a single-file build of their own, which loads faster than dist/cli.js,
// run with V8's code cache (dist/launch.cjs, src/cli/launch.ts).
const { join } = require("node:path");

const SINGLE = ["verify", "cat", "ls", "inspect", "packages", "sbom"];
const name = process.argv.slice(2).find((a) => !a.startsWith("-"));
if (SINGLE.includes(name)) {
  require("../dist/launch.cjs").launch(join(__dirname, `../dist/cli-${name}.cjs`));
} else {
  import("../dist/cli.js");
}
