// `cloud-images help A B` shows the help of `A B`, the same text as `A B --help`.
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("help", () => {
  it("help packages diff is the help of packages diff, not of packages", async () => {
    const viaHelp = await runCli(["help", "packages", "diff"]);
    const viaFlag = await runCli(["packages", "diff", "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: cloud-images packages diff /);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it("help COMMAND and help alone work as before", async () => {
    const run = await runCli(["help", "run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: cloud-images run /);
    const all = await runCli(["help"]);
    expect(all.stdout).toMatch(/^Usage: cloud-images /);
    expect(all.stdout).toContain("schedule");
  });
});
