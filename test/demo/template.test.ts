// The demo template as Packer 1.6.6 reads it: the real leg's source name, the pipeline's -var flags
// accepted, stamps validated, and the project's own templates check satisfied.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { resolve } from "../../src/resolve/index.js";
import { runCli } from "../helpers/cli.js";
import { DEMO_DIR, missingTools, PIPELINE_VARS, runTool, templateCopy } from "./helpers.js";

const skip = missingTools(["packer"]);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const leg = resolve({
  type: "gencloud",
  variant: "9",
  arch: "x86_64",
  release: "9.6",
  timestamp: "20260220143000",
});
const env = { CHECKPOINT_DISABLE: "1" };

function copy(): string {
  const dir = templateCopy("template");
  dirs.push(dir);
  return dir;
}

describe.skipIf(skip)(`demo Packer template${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("validates with the pipeline's -var flags (qemu_binary, ovmf_code, ovmf_vars)", async () => {
    const r = await runTool("packer", ["validate", ...PIPELINE_VARS, "."], { cwd: copy(), env });
    expect(r.code, r.output).toBe(0);
  });

  it("defines and builds exactly the real leg's source", async () => {
    const r = await runTool("packer", ["inspect", "."], { cwd: copy(), env });
    expect(r.code, r.output).toBe(0);
    const sources = [...r.output.matchAll(/^\s+(qemu\.\S+)$/gm)].map((m) => m[1]);
    expect(sources).toEqual([leg.packerSource]);
  });

  it("names the image like the real leg, from the build stamp", async () => {
    const dir = copy();
    const r = await runTool("packer", ["console", "-var", "build_stamp=20260220143000", "."], {
      cwd: dir,
      env,
      input: "local.date_stamp\nlocal.kernel_args\n",
    });
    expect(r.code, r.output).toBe(0);
    const [date, args] = r.output.trim().split("\n");
    expect(date).toBe("20260220");
    expect(args).toMatch(/\bpanic=0\b/);
    expect(args).toMatch(/\bcloud_images\.stamp=20260220143000\b/);
  });

  it.each([
    ["build_stamp=2026022014300", /build_stamp must be 14 digits/],
    ["build_stamp=2026022014300x", /build_stamp must be 14 digits/],
    ["date_stamp=202602", /date_stamp must be 8 digits/],
  ])("refuses -var %s", async (flag, message) => {
    const r = await runTool("packer", ["validate", "-var", flag, "."], { cwd: copy(), env });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(message);
  });

  it("passes the project's own templates check for gencloud 9 x86_64", async () => {
    const r = await runCli(["templates", "check", "--dir", DEMO_DIR, "--leg", "gencloud:9:x86_64", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).legs).toEqual([
      expect.objectContaining({ packerSource: leg.packerSource, state: "ok" }),
    ]);
  });
});
