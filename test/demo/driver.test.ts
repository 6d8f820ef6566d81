// `npm run demo`'s driver: argument errors, the non-root paths (missing packages, root needed), and the
// demo prepared in a temp directory (--prepare-only).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_PACKAGES } from "../../examples/demo/lib/packages.js";
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

// The realistic demo's preparation: the test guest (from the cache, or built), a build key and the NoCloud
// seed Packer serves, the variables file, the template and provisioning script copied into --dir. The
// whole leg (Packer over SSH, verify, the boot test, publish, report) is the README's first `run` example,
// run by readme-examples.test.ts: building it here again would boot the guest twice more.
describe.skipIf(e2eSkip)(`demo driver, prepared leg${e2eSkip ? ` (skipped: ${e2eSkip})` : ""}`, () => {
  it(
    "prepares the template directory and says how to build it",
    async () => {
      const dir = join(tmp, "leg");
      const r = await driver(["--dir", dir, "--prepare-only", "--accelerator", "tcg"], {
        timeoutMs: 45 * 60_000,
      });
      expect(r.code, r.output.slice(-4000)).toBe(0);
      for (const file of [
        "almalinux-demo.pkr.hcl",
        "provision/cleanup.sh",
        "demo.auto.pkrvars.hcl",
        "http/meta-data",
      ])
        expect(existsSync(join(dir, file)), file).toBe(true);
      const vars = readFileSync(join(dir, "demo.auto.pkrvars.hcl"), "utf8");
      expect(vars).toMatch(/^base_image = ".*\/\.cache\/guests\/[0-9a-f]{64}\/disk\.raw"$/m);
      expect(vars).toMatch(/^accelerator = "tcg"$/m);
      // the seed authorizes the build key the variables name, for the guest's default user
      const key = /^ssh_private_key_file = "(.*)"$/m.exec(vars)![1]!;
      const userData = readFileSync(join(dir, "http/user-data"), "utf8");
      expect(userData).toContain(readFileSync(`${key}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" "));
      expect(userData).not.toContain("phone_home");
      expect(r.output).toMatch(
        /demo: prepared; build it with: cloud-images run --templates .* --release 9\.6/,
      );
    },
    46 * 60_000,
  );
});
