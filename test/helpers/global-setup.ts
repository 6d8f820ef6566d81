// Tests that spawn the CLI run the bundled dist/, so rebuild it once per test run.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
