// `verify --backend nbd`, the seed's method kept for parity. Its clear failures are tested everywhere
// (not root, no qemu-nbd, no nbd module); the real run needs root and the nbd kernel module and is
// skipped, with the reason in its title, where those are missing.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { runChecks } from "../../src/inspect/checks.js";
import { observeMountedTree, resolveInside } from "../../src/inspect/nbd.js";
import { packageNamesText } from "../../src/inspect/package-list.js";
import { expectationsForLeg } from "../../src/inspect/verify.js";
import { CLI, REPO_ROOT, runCli } from "../helpers/cli.js";
import { type CommandResult, runCommand } from "../helpers/process.js";
import { expectedListFile, image, removeDir, tempDir } from "./images.js";

const isRoot = process.getuid?.() === 0;
const moduleLoaded = existsSync("/sys/module/nbd");
const moduleAvailable = moduleLoaded || spawnSync("modprobe", ["-n", "nbd"]).status === 0;
const qemuNbd = spawnSync("sh", ["-c", "command -v qemu-nbd"]).status === 0;
const skipReason = !isRoot
  ? "not root"
  : !qemuNbd
    ? "qemu-nbd is not installed"
    : !moduleAvailable
      ? `the running kernel (${spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim()}) has no nbd module`
      : "";

let tmp: string;
let al9: BuiltImage;
const EXPECT = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];

beforeAll(async () => {
  tmp = tempDir("nbd");
  al9 = await image("al9");
});

afterAll(() => removeDir(tmp));

/** The CLI as another user (nobody), through setpriv. */
function runAsNobody(args: readonly string[]): Promise<CommandResult> {
  return runCommand(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, ...args],
    { cwd: REPO_ROOT },
  );
}

describe("verify --backend nbd fails clearly", () => {
  it.skipIf(!isRoot)("when not root (run as nobody)", async () => {
    const r = await runAsNobody([
      "verify",
      al9.paths.raw!,
      ...EXPECT,
      "--backend",
      "nbd",
      "--packages-out",
      join(tmp, "a.txt"),
    ]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe(
      "cloud-images: error: --backend nbd needs root (it loads the nbd module, attaches the image and mounts it); run as root or use --backend native\n",
    );
  });

  it.skipIf(!isRoot)("when qemu-nbd is not on PATH", async () => {
    const r = await runCli(["verify", al9.paths.raw!, ...EXPECT, "--backend", "nbd"], {
      env: { PATH: join(tmp, "empty-bin") },
    });
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe(
      "cloud-images: error: --backend nbd needs qemu-nbd on PATH (Debian/Ubuntu: apt-get install qemu-utils)\n",
    );
  });

  it.skipIf(!isRoot || moduleAvailable)("when the kernel has no nbd module (as here)", async () => {
    const r = await runCli([
      "verify",
      al9.paths.raw!,
      ...EXPECT,
      "--backend",
      "nbd",
      "--packages-out",
      join(tmp, "b.txt"),
    ]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toMatch(
      /^cloud-images: error: the nbd kernel module is not available \(modprobe nbd: .+\); use --backend native\n$/,
    );
    expect(existsSync(join(tmp, "b.txt"))).toBe(false);
    // nothing left attached or mounted
    expect(
      spawnSync("sh", ["-c", "grep -c cloud-images-nbd /proc/mounts"], { encoding: "utf8" }).stdout.trim(),
    ).toBe("0");
  });

  it("needs the root partition (no catalog leg, no --root-partition): exit 2", async () => {
    const r = await runCli([
      "verify",
      al9.paths.raw!,
      "--release-string",
      "AlmaLinux release 9.6",
      "--arch",
      "x86_64",
      "--backend",
      "nbd",
    ]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe(
      "cloud-images: error: --backend nbd needs the root partition (--root-partition N or a catalog leg)\n",
    );
  });
});

describe("what the nbd backend reads from the mounted tree (no kernel needed)", () => {
  /** The root tree as a mount would show it: release files, os-release behind an absolute symlink, the db. */
  function tree(img: BuiltImage, name: string): string {
    const root = join(tmp, name);
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    mkdirSync(join(root, "var/lib"), { recursive: true });
    writeFileSync(join(root, "etc/almalinux-release"), img.expected.releaseFileContent!);
    writeFileSync(join(root, "usr/lib/os-release"), img.expected.osRelease!);
    // absolute: must resolve inside the tree, not to the host's (Debian) os-release
    symlinkSync("/usr/lib/os-release", join(root, "etc/os-release"));
    if (img.expected.rpmdbPath === "/usr/lib/sysimage/rpm") {
      cpSync(img.rpmdbDir, join(root, "usr/lib/sysimage/rpm"), { recursive: true });
      symlinkSync("../../usr/lib/sysimage/rpm", join(root, "var/lib/rpm"));
    } else {
      cpSync(img.rpmdbDir, join(root, "var/lib/rpm"), { recursive: true });
    }
    return root;
  }

  it.each([
    [
      "AL10 x86_64_v2, /var/lib/rpm a symlink",
      "al10v2",
      { type: "gencloud", variant: "10-v2", arch: "x86_64", release: "10.1" },
    ],
    ["AL8 aarch64, Berkeley DB", "al8", { type: "gencloud", variant: "8", arch: "aarch64", release: "8.10" }],
  ] as const)("%s: the checks pass as with the native reader", async (_, name, leg) => {
    const img = await image(name);
    const root = tree(img, name);
    const work = join(tmp, `${name}-work`);
    mkdirSync(work);
    const exp = expectationsForLeg(leg);
    const obs = await observeMountedTree(
      root,
      work,
      { partition: img.rootPartition, filesystem: "xfs", foundBy: "expected" },
      exp.releasePackage,
    );
    expect(runChecks(obs, exp).map((c) => [c.name, c.status, c.found])).toEqual([
      ["release-file", "pass", img.expected.releaseFileContent!.trim()],
      ["rpmdb", "pass", `${img.expected.rpmdbBackend} at ${img.expected.rpmdbPath}`],
      ["release-package", "pass", img.expected.releasePackageArch],
      ["root-partition", "pass", String(img.rootPartition)],
      ["os-release", "pass", `ID=almalinux VERSION_ID=${img.spec.release}`],
    ]);
    expect(obs.packages.ok && packageNamesText(obs.packages.value.names)).toBe(expectedListFile(img));
  });

  it("resolves symlinks inside the tree only, with a loop limit", async () => {
    const root = join(tmp, "links");
    mkdirSync(join(root, "a"), { recursive: true });
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "");
    symlinkSync("../../../../etc", join(root, "a/up"));
    symlinkSync("/a/loop2", join(root, "a/loop1"));
    symlinkSync("loop1", join(root, "a/loop2"));
    expect(await resolveInside(root, "/a/up/passwd")).toBe(join(root, "etc/passwd"));
    await expect(resolveInside(root, "/a/loop1/x")).rejects.toThrow(
      "too many levels of symbolic links at /a/loop1/x",
    );
  });
});

describe("verify --backend nbd against the native reader", () => {
  it.skipIf(skipReason !== "")(
    `gives the same verdict on raw and compressed qcow2${skipReason ? ` (skipped: ${skipReason})` : ""}`,
    async () => {
      for (const format of ["raw", "qcow2-zlib"] as const) {
        const outs = { native: join(tmp, `${format}-native.txt`), nbd: join(tmp, `${format}-nbd.txt`) };
        const native = await runCli([
          "verify",
          al9.paths[format]!,
          ...EXPECT,
          "--json",
          "--packages-out",
          outs.native,
        ]);
        const nbd = await runCli([
          "verify",
          al9.paths[format]!,
          ...EXPECT,
          "--json",
          "--backend",
          "nbd",
          "--packages-out",
          outs.nbd,
        ]);
        expect(nbd.code).toBe(native.code);
        const strip = (s: string) =>
          JSON.parse(s).checks.map((c: { name: string; status: string; found?: string }) =>
            c.name === "package-list" ? c.status : [c.name, c.status, c.found],
          );
        expect(strip(nbd.stdout)).toEqual(strip(native.stdout));
        expect(readFileSync(outs.nbd, "utf8")).toBe(readFileSync(outs.native, "utf8"));
      }
    },
  );
});
