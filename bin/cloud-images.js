#!/usr/bin/env node
// The command is the first argument that is not an option (as the CLI itself picks it); the offline
// commands run on every leg have a single-file build of their own, which loads faster than dist/cli.js.
const SINGLE = ["verify", "cat", "ls", "inspect", "packages", "sbom"];
const name = process.argv.slice(2).find((a) => !a.startsWith("-"));
await import(SINGLE.includes(name) ? `../dist/cli-${name}.js` : "../dist/cli.js");
