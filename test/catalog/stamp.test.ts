import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTimeStamp, stampsFor } from "../../src/resolve/stamp.js";
import { runCli } from "../helpers/cli.js";

describe("stamp", () => {
  it("formats UTC", () => {
    expect(stampsFor(new Date(Date.UTC(2026, 1, 20, 14, 30, 5)))).toEqual({
      timeStamp: "20260220143005",
      dateStamp: "20260220",
    });
    expect(parseTimeStamp("20240229235959").dateStamp).toBe("20240229");
    expect(() => parseTimeStamp("20230229000000")).toThrow(/not a real UTC date/);
  });

  it("generates the current UTC stamp when none is given", async () => {
    const before = stampsFor(new Date()).timeStamp;
    const r = await runCli(["stamp", "--json"]);
    const after = stampsFor(new Date()).timeStamp;
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { timeStamp: string; dateStamp: string };
    expect(Object.keys(out)).toEqual(["timeStamp", "dateStamp"]);
    expect(out.timeStamp >= before && out.timeStamp <= after).toBe(true);
    expect(out.dateStamp).toBe(out.timeStamp.slice(0, 8));
  });

  it("passes a given stamp through, and writes GitHub outputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stamp-"));
    const out = join(dir, "output");
    writeFileSync(out, "");
    const r = await runCli(["stamp", "--date-time-stamp", "20260220143000", "--github"], {
      env: { GITHUB_OUTPUT: out },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("time_stamp=20260220143000\ndate_stamp=20260220\n");
    expect(readFileSync(out, "utf8")).toBe("time_stamp=20260220143000\ndate_stamp=20260220\n");
  });

  it("an empty stamp means now (the workflow input's default)", async () => {
    const r = await runCli(["stamp", "--date-time-stamp", ""]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^time_stamp=\d{14}\ndate_stamp=\d{8}\n$/);
  });

  it("refuses shell metacharacters, writing nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stamp-"));
    const out = join(dir, "output");
    writeFileSync(out, "");
    const r = await runCli(["stamp", "--date-time-stamp", "$(reboot)", "--github"], {
      env: { GITHUB_OUTPUT: out },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(readFileSync(out, "utf8")).toBe("");
  });
});
