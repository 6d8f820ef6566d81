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
    const wanted = DEMO_PACKAGES.filter((p) => p !== "linux-image-amd64" || !/ID=ubuntu/.test(osRelease()));
    expect(lines[0]).toContain(
      `run: sudo apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ${wanted.join(" ")}`,
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

function osRelease(): string {
  try {
    return readFileSync("/etc/os-release", "utf8");
  } catch {
    return "";
  }
}

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
  missingTools(["packer", QEMU, "modprobe", "/bin/busybox"]) ??
  runCommandMissing();

describe.skipIf(e2eSkip)(`demo driver, whole leg${e2eSkip ? ` (skipped: ${e2eSkip})` : ""}`, () => {
  it("builds, publishes into the store and lists where the files are", async () => {
    const dir = join(tmp, "leg");
    const store = join(tmp, "bucket");
    const stamp = "20260220143000";
    const r = await driver(
      ["--dir", dir, "--store", `file://${store}`, "--timestamp", stamp, "--accelerator", "tcg"],
      { timeoutMs: 600_000 },
    );
    expect(r.code, r.output).toBe(0);
    const leg = resolve({ type: "gencloud", variant: "9", arch: "x86_64", release: "9.6", timestamp: stamp });
    const image = `AlmaLinux-9-GenericCloud-9.6-${stamp.slice(0, 8)}.x86_64.qcow2`;
    expect(readdirSync(join(dir, "output-almalinux-9-gencloud-x86_64"))).toContain(image);
    expect(existsSync(join(store, leg.s3Prefix, image))).toBe(true);
    expect(r.output).toMatch(/demo: the build leg succeeded/);
    expect(r.output).toContain(`${leg.s3Prefix}`);
    expect(r.output).toContain(image);
    // The release: a signed CHECKSUM, the image's bundles and both index documents, verified at the
    // end against the throwaway keys' public halves, which it names.
    const folder = readdirSync(join(store, leg.s3Prefix));
    for (const name of [
      "CHECKSUM",
      "CHECKSUM.asc",
      `${image}.sigstore.json`,
      `${image}.test-result.sigstore.json`,
    ]) {
      expect(folder).toContain(name);
    }
    expect(existsSync(join(store, "streams", "9.json"))).toBe(true);
    expect(existsSync(join(store, "streams", "v1", "index.json"))).toBe(true);
    const keys = join(tmp, "release-keys");
    expect(readdirSync(keys).sort()).toEqual(["attestation.pub.pem", "openpgp.pub.asc"]);
    expect(r.output).toMatch(
      /OpenPGP public key \(a throwaway key made for this run, [0-9A-F]{40}\): .*openpgp\.pub\.asc/,
    );
    expect(r.output).toContain("demo: verify-release: the released folder verifies");
    expect(r.output).not.toContain("PRIVATE KEY");
  });
});
