#!/usr/bin/env node
// The command is the first argument that is not an option (as the CLI itself picks it); the offline
// commands run on every leg have a single-file build of their own, which loads faster than dist/cli.js,
// run with V8's code cache (dist/launch.js, src/cli/launch.ts).
const SINGLE = ["verify", "cat", "ls", "inspect", "packages", "sbom"];
const name = process.argv.slice(2).find((a) => !a.startsWith("-"));
if (SINGLE.includes(name)) {
  const { launch } = await import("../dist/launch.js");
  launch(new URL(`../dist/cli-${name}.cjs`, import.meta.url).pathname);
} else await import("../dist/cli.js");
