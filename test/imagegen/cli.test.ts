// imagegen/cli.ts: copies the built image out; bad input is one line on stderr and exit 2.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sh, tempDir } from "./oracles.js";

const CLI = fileURLToPath(new URL("../../imagegen/cli.ts", import.meta.url));
let tmp: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SPEC = ["--arch", "x86_64", "--el", "9", "--release", "9.6", "--layout", "bare", "--disk-size", "768M"];

beforeAll(() => {
  tmp = tempDir("cli");
  chmodSync(tmp, 0o755);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("imagegen CLI", () => {
  it("builds and copies a raw image out, sparse and identical to the cached one", () => {
    const out = join(tmp, "bare.raw");
    const r = cli([
      ...SPEC,
      "--packages",
      "bash,glibc",
      "--format",
      "raw",
      "--out",
      out,
      "--json",
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const built = JSON.parse(r.stdout);
    expect(built.out).toBe(out);
    expect(built.expected.packageNames).toEqual(["almalinux-release", "bash", "glibc", "gpg-pubkey"]);
    expect(sh("qemu-img", ["compare", "-f", "raw", "-F", "raw", built.paths.raw, out])).toContain(
      "identical",
    );
    expect(statSync(out).size).toBe(768 * 1024 * 1024);
    expect(statSync(out).blocks * 512).toBeLessThan(64 * 1024 * 1024);
  });

  it("copies a qcow2 out and prints its paths", () => {
    const out = join(tmp, "bare.qcow2");
    const r = cli([...SPEC, "--packages", "bash", "--format", "qcow2", "--out", out, "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^qcow2: \/.*disk\.qcow2$/m);
    expect(r.stdout).toContain(`out: ${out}`);
    expect(sh("qemu-img", ["info", out])).toMatch(/file format: qcow2/);
  });

  it("refuses to build as an ordinary user, saying root is needed (exit 1)", () => {
    const cache = join(tmp, "user-cache");
    mkdirSync(cache, { mode: 0o777 });
    chmodSync(cache, 0o777);
    const cmd = [
      process.execPath,
      "--import",
      "tsx",
      CLI,
      ...SPEC,
      "--packages",
      "tar",
      "--format",
      "raw",
      "--quiet",
    ];
    // as root, drop to nobody; otherwise we already are an ordinary user
    const argv =
      process.getuid?.() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...cmd]
        : cmd;
    const r = spawnSync(argv[0]!, argv.slice(1), {
      encoding: "utf8",
      env: { ...process.env, IMAGEGEN_CACHE: cache, HOME: tmp },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "imagegen: building an image needs root (rpm --root uses chroot); run as root, or reuse a cached image",
    );
    expect(readdirSync(cache)).toEqual([]);
  });

  it.each([
    [["--arch", "sparc", "--el", "9", "--release", "9.6"], /arch/],
    [[...SPEC, "--format", "vhd"], /valid: raw, qcow2/],
    [
      [...SPEC, "--format", "raw", "--format", "qcow2", "--out", "/tmp/x"],
      /--out needs exactly one --format/,
    ],
    [[...SPEC, "--disk-size", "lots"], /invalid size "lots"/],
    [["--el", "9", "--release", "9.6"], /--arch/],
  ])("refuses bad input %j with exit 2 and one line", (args, message) => {
    const r = cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(r.stdout).toBe("");
    expect(existsSync("/tmp/x")).toBe(false);
  });
});
