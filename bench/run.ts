/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those named on the command line) and
 * leaves each to print its own ratio lines. Exit status is non-zero if any benchmark crashed;
 * a missed target is printed (MISS), not a failure.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2).filter((a) => a !== "--");
const benches = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let crashed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `${dir}${file}`], { stdio: "inherit" });
  if (r.status !== 0) {
    crashed++;
    console.log(`!! ${file} exited with ${r.status}`);
  }
}
process.exitCode = crashed > 0 ? 1 : 0;
