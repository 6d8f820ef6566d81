// `npm run demo`'s driver: argument errors, the non-root paths (missing packages, root needed), and, once
// `cloud-images run` exists, the whole demo leg into a temp directory and a temp file:// store.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_PACKAGES } from "../../examples/demo/lib/packages.js";
import type { BootTestResult } from "../../src/boot/result.js";
import type { LegManifest } from "../../src/manifest/manifest.js";
import { resolve } from "../../src/resolve/index.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { isRoot, missingTools, QEMU, runTool } from "./helpers.js";

const TSX = join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs");
const DRIVER = join(REPO_ROOT, "examples/demo/run-demo.ts");
const tmp = mkdtempSync(join(tmpdir(), "demo-driver-"));
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function driver(
  args: string[],
  options: { asNobody?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  const argv = [process.execPath, TSX, DRIVER, ...args];
  const env = { HOME: tmp, ...options.env };
  return options.asNobody
    ? runTool("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...argv], {
        cwd: REPO_ROOT,
        env,
        timeoutMs: options.timeoutMs ?? 60_000,
      })
    : runTool(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env, timeoutMs: options.timeoutMs ?? 60_000 });
}

const stderrLines = (output: string) => output.trim().split("\n").filter(Boolean);

describe("demo driver, arguments", () => {
  it("prints help with an example", async () => {
    const r = await driver(["--help"]);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/--accelerator <mode>/);
    expect(r.output).toMatch(/Example:\n\s+npm run demo/);
  });

  it("exits 2 on an unknown option or a bad accelerator, with one line", async () => {
    for (const args of [["--no-such-option"], ["--accelerator", "xen"]]) {
      const r = await driver(args);
      expect(r.code).toBe(2);
      expect(stderrLines(r.output)[0]).toMatch(/^error: /);
    }
  });

  it("exits 2 on a malformed time stamp before touching anything", async () => {
    const r = await driver(["--timestamp", "2026-02-20"]);
    expect(r.code).toBe(2);
    expect(stderrLines(r.output)).toEqual([expect.stringMatching(/^demo: invalid time stamp "2026-02-20"/)]);
  });
});

const nobodySkip = !isRoot() ? "needs root to switch to nobody" : missingTools(["setpriv"]);

describe.skipIf(nobodySkip)(`demo driver, not root${nobodySkip ? ` (skipped: ${nobodySkip})` : ""}`, () => {
  it("prints the one apt-get line to run when packages are missing, and exits 2", async () => {
    // a dpkg-query that knows no package: the real one cannot report installed packages as missing
    const bin = join(tmp, "bin");
    spawnSync("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "dpkg-query"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    chmodSync(bin, 0o755);
    const r = await driver([], { asNobody: true, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(2);
    const lines = stderrLines(r.output);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `run: sudo apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ${DEMO_PACKAGES.join(" ")}`,
    );
  });

  it("says it needs root when the packages are there, and exits 2", async () => {
    const r = await driver([], { asNobody: true });
    expect(r.code).toBe(2);
    expect(stderrLines(r.output)).toEqual([
      expect.stringMatching(/^demo: the demo needs root .*sudo npm run demo$/),
    ]);
  });
});

function runCommandMissing(): string | null {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin/cloud-images.js"), "run", "--help"], {
    encoding: "utf8",
  });
  // an unknown command's --help prints the program's help, so look for run's own usage line
  return r.status === 0 && /Usage: cloud-images run/.test(r.stdout)
    ? null
    : "`cloud-images run` does not exist yet";
}

const e2eSkip =
  (isRoot() ? null : "needs root") ??
  missingTools(["packer", QEMU, "mmdebstrap", "ssh", "losetup"]) ??
  runCommandMissing();

// The realistic demo end to end: Packer boots the test guest and cleans it over SSH, then verify, the boot
// test (which must pass: this is the passing boot test on the realistic guest's image), publish, report.
describe.skipIf(e2eSkip)(`demo driver, whole leg${e2eSkip ? ` (skipped: ${e2eSkip})` : ""}`, () => {
  it(
    "builds, verifies, boot-tests, publishes into the store and lists where the files are",
    async () => {
      const dir = join(tmp, "leg");
      const store = join(tmp, "bucket");
      const stamp = "20260220143000";
      const r = await driver(
        ["--dir", dir, "--store", `file://${store}`, "--timestamp", stamp, "--accelerator", "tcg"],
        { timeoutMs: 75 * 60_000 },
      );
      expect(r.code, r.output.slice(-6000)).toBe(0);
      const leg = resolve({
        type: "gencloud",
        variant: "9",
        arch: "x86_64",
        release: "9.6",
        timestamp: stamp,
      });
      const image = `AlmaLinux-9-GenericCloud-9.6-${stamp.slice(0, 8)}.x86_64.qcow2`;
      expect(readdirSync(join(dir, "output-almalinux-9-gencloud-x86_64"))).toContain(image);
      expect(existsSync(join(store, leg.s3Prefix, image))).toBe(true);
      expect(r.output).toMatch(/demo: the build leg succeeded/);
      expect(r.output).toContain(`${leg.s3Prefix}`);
      expect(r.output).toContain(image);
      // the boot test ran on the built image and passed every check
      const out = join(dir, "output-almalinux-9-gencloud-x86_64");
      const boot = JSON.parse(readFileSync(join(out, `${image}.boot.json`), "utf8")) as BootTestResult;
      expect(boot.checks.filter((c) => c.status === "fail")).toEqual([]);
      expect(
        boot.checks
          .filter((c) => c.status === "pass")
          .map((c) => c.name)
          .sort(),
      ).toEqual(
        [
          "boot-ssh",
          "cloud-init",
          "console",
          "growpart",
          "identity",
          "packages-match",
          "release",
          "release-arch",
          "root-filesystem",
          "selinux",
          "units",
        ].sort(),
      );
      const manifest = JSON.parse(readFileSync(join(out, `${image}.manifest.json`), "utf8")) as LegManifest;
      expect(manifest.tests).toEqual({ offline: "passed", boot: "passed" });
      expect(manifest.steps.map((s) => [s.name, s.status])).toContainEqual(["test", "ok"]);
      expect(r.output).toContain("Tests (boot) passed ✅");
    },
    80 * 60_000,
  );
});
