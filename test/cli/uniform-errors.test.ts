/**
 * One style for bad input across the CLI: one line on stderr starting `cloud-images: error:`, exit 2,
 * whether Commander or a command found it; timeouts checked against what a timer holds; paths that are
 * not what an option needs (a file for a directory, a read-only or missing output location, an
 * unwritable $GITHUB_OUTPUT) named instead of an "internal error".
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_TIMER_MS } from "../../src/durations.js";
import { UsageError } from "../../src/errors.js";
import { runChild } from "../../src/process/children.js";
import { DEMO_DIR } from "../demo/helpers.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "cli-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "a-file");
writeFileSync(file, "not a directory\n");
const LEG = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];
const DRY = ["run", "--templates", DEMO_DIR, ...LEG, "--store", "none", "--dry-run"];

async function refused(args: readonly string[], message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const r = await runCli(args, { env });
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cloud-images: error: /);
  expect(lines[0]).toMatch(message);
  expect(r.stdout).toBe("");
}

describe("option-parser errors", () => {
  it.concurrent.each([
    [["inspect", "--bogus", "x.qcow2"], /unknown option '--bogus' \(see: cloud-images inspect --help\)$/],
    [["ls"], /missing required argument 'image\[:path\]' \(see: cloud-images ls --help\)$/],
    [
      ["ls", "a", "b"],
      /too many arguments for 'ls'\. Expected 1 argument but got 2\. \(see: cloud-images ls --help\)$/,
    ],
    [
      ["packages", "diff", "old.txt"],
      /missing required argument 'new' \(see: cloud-images packages diff --help\)$/,
    ],
    [["frobnicate"], /unknown command 'frobnicate' \(see: cloud-images --help\)$/],
    [
      ["sbom", "x.qcow2", "--format", "yaml"],
      /argument 'yaml' is invalid\. Allowed choices are cyclonedx, spdx\. \(see: cloud-images sbom --help\)$/,
    ],
    [["run", "--type", "gencloud"], /required option '--variant <variant>' not specified/],
    [[...DRY, "--boots", "1x"], /invalid --boots "1x" \(valid: a whole number\)$/],
    [
      ["boot-test", file, "--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--cpus", "two"],
      /invalid --cpus "two" \(valid: a whole number\)$/,
    ],
  ])("%j: one line, exit 2", async (args, message) => refused(args, message));
});

describe("timeouts", () => {
  it.concurrent.each([
    [
      [...DRY, "--build-timeout", "35792"],
      /invalid --build-timeout "35792" \(valid: whole minutes from 1 to 35791\)$/,
    ],
    [
      [...DRY, "--build-timeout", "0"],
      /invalid --build-timeout "0" \(valid: whole minutes from 1 to 35791\)$/,
    ],
    [
      ["point-release", "--version", "9", "--arch", "x86_64", "--timeout", "2147484"],
      /invalid --timeout "2147484" \(valid: seconds from 0\.001 to 2147483\)$/,
    ],
    [
      ["verify-release", dir, "--key", file, "--timeout", "86401"],
      /invalid --timeout "86401" \(valid: whole seconds from 1 to 86400\)$/,
    ],
  ])("%j is refused naming the maximum", async (args, message) => refused(args, message));

  it("the longest timeout that holds is accepted", async () => {
    const r = await runCli([...DRY, "--build-timeout", "35791"]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a child's timer never fires early: the longest one waits, a longer one is refused", async () => {
    const r = await runChild("sleep", ["0.5"], { timeoutMs: MAX_TIMER_MS });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    await expect(runChild("sleep", ["0.5"], { timeoutMs: MAX_TIMER_MS + 1 })).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});

describe("paths that are not what the option needs", () => {
  it.concurrent.each([
    [["run", "--templates", file, ...LEG, "--store", "none"], /--templates .*a-file is not a directory/],
    [
      ["workflows", "generate", "--out", file],
      /--out .*a-file is not a directory \(give the repository root\)$/,
    ],
    [
      ["workflows", "check", "--dir", "/nonexistent"],
      /--dir \/nonexistent does not exist \(give the repository root\)$/,
    ],
    [
      [...DRY, "--previous-packages", join(dir, "missing.txt")],
      /cannot open --previous-packages .*missing\.txt: no such file$/,
    ],
    [
      ["run", "--templates", DEMO_DIR, ...LEG, "--store", `file://${file}`, "--from", "publish"],
      /store .*a-file is not a directory$/,
    ],
    [
      ["publish", file, "--prefix", "p", "--store", "s3://abc", "--region", "bad region!"],
      /invalid region "bad region!" \(valid: letters, digits, - and _, e\.g\. us-east-1\)$/,
    ],
  ])("%j: one line naming it, exit 2", async (args, message) => refused(args, message));

  it.concurrent.each([
    [
      ["sbom", file, "--out", "/nonexistent/dir/sbom.json"],
      /cannot write \/nonexistent\/dir\/sbom\.json: no such file \(\/nonexistent\/dir\)$/,
    ],
    [
      ["boot-test", file, ...LEG.slice(0, 6), "--junit", dir],
      /cannot write .*cli-errors-\w+: it is a directory$/,
    ],
    [
      ["release", "--manifests", dir, "--store", `file://${dir}/store`, "--subjects", "/nonexistent/s.txt"],
      /cannot write \/nonexistent\/s\.txt: no such file \(\/nonexistent\)$/,
    ],
  ])("%j: an output that cannot be written is found before the work, exit 2", async (args, message) =>
    refused(args, message),
  );

  it("an unwritable $GITHUB_OUTPUT is named, not an internal error", async () => {
    const outputDir = join(dir, "output-is-a-directory");
    mkdirSync(outputDir);
    await refused(
      ["stamp", "--github"],
      /cannot append to \$GITHUB_OUTPUT \(.*output-is-a-directory\): EISDIR$/,
      {
        GITHUB_OUTPUT: outputDir,
      },
    );
  });

  it.skipIf(process.getuid?.() !== 0)(
    "workflows generate into a read-only directory names the file; run refuses a store there before the build",
    async () => {
      const ro = join(dir, "read-only");
      mkdirSync(ro);
      spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro]);
      try {
        await refused(
          ["workflows", "generate", "--out", ro],
          /cannot write .*read-only\/\.github\/.*: EROFS$/,
        );
        await refused(
          ["run", "--templates", DEMO_DIR, ...LEG, "--store", `file://${ro}/bucket`, "--from", "publish"],
          /cannot create store directory .*read-only\/bucket: EROFS \(.*read-only\)$/,
        );
      } finally {
        spawnSync("umount", [ro]);
        rmdirSync(ro);
      }
    },
  );
});
