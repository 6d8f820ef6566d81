// The boot test's checks as pure functions: each passes on a clean boot's answers and fails on exactly
// its defect, naming it; checks that could not be asked are skipped and say why.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BootExpectations,
  type BootRun,
  hostKeyFingerprint,
  runBootChecks,
} from "../../src/boot/checks.js";
import type { Section, Sections } from "../../src/boot/guest-script.js";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test";
const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFo3p3lKbtgQx8ynQhCN9FqL8WBbCEV2uW8Q1E+9Hjr7 other";
const NOW = 1_800_000_000;

const ok = (output: string): Section => ({ output, stderr: "", status: 0 });

function identity(machineId: string, keyLine = HOST_KEY, keyTime = NOW - 40, bootTime = NOW - 100): Section {
  return ok(`machine-id ${machineId}\nboot-time ${bootTime}\nhost-key ${keyTime} ${keyLine}`);
}

const STAGE_ONE: Sections = {
  identity: identity("8f2a5b7c9d1e4f3a2b6c8d0e1f3a5b7c"),
  release: ok("AlmaLinux release 9.6 (Sage Margay)"),
  "release-arch": ok("x86_64"),
  // rpm -q exits 1 for the kernel group's absent alternative: the group is met by the other one
  "required-packages": {
    output:
      "cloud-init-23.4-1.el9.noarch\nopenssh-server-8.7p1-1.el9.x86_64\nkernel-core-5.14.0-570.el9.x86_64\npackage kernel-64k-core is not installed",
    stderr: "",
    status: 1,
  },
  packages: ok("almalinux-release\nbash\ncloud-init\nopenssh-server"),
  "root-filesystem": ok("xfs"),
  selinux: ok("Enforcing"),
};

const GIB = 2 ** 30;
const STAGE_TWO: Sections = {
  "cloud-init": ok(JSON.stringify({ status: "done", errors: [], detail: "DataSourceNoCloudNet" })),
  units: ok("running"),
  "failed-units": ok(""),
  growpart: ok(
    `source /dev/vda4\ndisk-bytes ${20 * GIB}\npart-start ${1290 * 2 ** 20}\npart-bytes ${20 * GIB - 1290 * 2 ** 20 - 17408}\nfs-bytes ${18.5 * GIB}`,
  ),
};

function run(overrides: Partial<BootRun> = {}): BootRun {
  return {
    index: 1,
    findings: [],
    milestones: { kernel: 10, init: 20, "cloud-init": 40, "cloud-init-done": 120, "login-prompt": 110 },
    seedFetchedSeconds: 70,
    phoneHomeSeconds: 120,
    ssh: { ok: true, seconds: 100 },
    stageOne: STAGE_ONE,
    stageTwo: STAGE_TWO,
    ended: { reason: "every check asked", seconds: 130 },
    consoleLines: 700,
    ...overrides,
  };
}

const EXP: BootExpectations = {
  mode: "ssh",
  user: "almalinux",
  releaseString: "AlmaLinux release 9.6",
  arch: "x86_64",
  releasePackage: "almalinux-release",
  rootFilesystem: "xfs",
  requiredPackages: [
    { name: "cloud-init", anyOf: ["cloud-init"] },
    { name: "openssh-server", anyOf: ["openssh-server"] },
    { name: "a kernel", anyOf: ["kernel-core", "kernel-64k-core"] },
  ],
  offlinePackages: ["almalinux-release", "bash", "cloud-init", "openssh-server"],
  baked: { hostKeyFingerprints: [] },
};

function statuses(runs: BootRun[], exp = EXP): Record<string, string> {
  return Object.fromEntries(runBootChecks(runs, exp).map((c) => [c.name, c.status]));
}

function only(runs: BootRun[], name: string, exp = EXP) {
  const checks = runBootChecks(runs, exp);
  const failed = checks.filter((c) => c.status === "fail");
  expect(failed.map((c) => c.name)).toEqual([name]);
  return failed[0]!;
}

describe("boot checks", () => {
  it("pass on a clean boot; login-prompt is for console-only boots", () => {
    expect(statuses([run()])).toEqual({
      "boot-ssh": "pass",
      "login-prompt": "skip",
      console: "pass",
      "cloud-init": "pass",
      units: "pass",
      release: "pass",
      "release-arch": "pass",
      "required-packages": "pass",
      growpart: "pass",
      "root-filesystem": "pass",
      selinux: "pass",
      identity: "pass",
      "packages-match": "pass",
    });
  });

  const stageOne = (patch: Partial<Record<string, Section>>) =>
    run({ stageOne: { ...STAGE_ONE, ...patch } as Sections });
  const stageTwo = (patch: Partial<Record<string, Section>>) =>
    run({ stageTwo: { ...STAGE_TWO, ...patch } as Sections });

  it.each<[string, BootRun, RegExp]>([
    [
      "console",
      run({
        findings: [
          { id: "kernel-oops", check: "console", line: "BUG: unable to handle page fault", reason: "r" },
        ],
      }),
      /kernel-oops: BUG/,
    ],
    [
      "cloud-init",
      stageTwo({ "cloud-init": ok(JSON.stringify({ status: "error", errors: ["failed ssh"] })) }),
      /status is error: failed ssh/,
    ],
    ["cloud-init", stageTwo({ "cloud-init": ok("not json") }), /no JSON status/],
    [
      "units",
      stageTwo({ units: ok("degraded"), "failed-units": ok("broken.service loaded failed failed X") }),
      /degraded; failed: broken\.service/,
    ],
    [
      "units",
      run({
        findings: [
          {
            id: "unit-failed",
            check: "units",
            line: "[FAILED] Failed to start x.service",
            reason: "r",
            unit: "x.service",
          },
        ],
      }),
      /failed: x\.service/,
    ],
    ["release", stageOne({ release: ok("AlmaLinux release 9.5 (Teal Serval)") }), /does not contain/],
    [
      "release",
      stageOne({
        release: { output: "", stderr: "cat: /etc/almalinux-release: No such file or directory", status: 1 },
      }),
      /No such file/,
    ],
    ["release-arch", stageOne({ "release-arch": ok("x86_64_v2") }), /x86_64_v2, not x86_64/],
    [
      "required-packages",
      stageOne({
        "required-packages": {
          output: "package cloud-init is not installed\nopenssh-server-8.7",
          stderr: "",
          status: 1,
        },
      }),
      /not installed: cloud-init/,
    ],
    [
      "required-packages",
      stageOne({
        "required-packages": {
          output:
            "cloud-init-23.4\nopenssh-server-8.7\npackage kernel-core is not installed\npackage kernel-64k-core is not installed",
          stderr: "",
          status: 4,
        },
      }),
      /not installed: a kernel \(kernel-core or kernel-64k-core\)/,
    ],
    [
      "growpart",
      stageTwo({
        growpart: ok(
          `source /dev/vda4\ndisk-bytes ${20 * GIB}\npart-start ${1290 * 2 ** 20}\npart-bytes ${2 * GIB}\nfs-bytes ${1.9 * GIB}`,
        ),
      }),
      /was not grown/,
    ],
    [
      "growpart",
      stageTwo({
        growpart: ok(
          `source /dev/vda4\ndisk-bytes ${20 * GIB}\npart-start ${1290 * 2 ** 20}\npart-bytes ${20 * GIB - 1290 * 2 ** 20 - 17408}\nfs-bytes ${2 * GIB}`,
        ),
      }),
      /filesystem was not grown/,
    ],
    ["root-filesystem", stageOne({ "root-filesystem": ok("ext4") }), /ext4, not xfs/],
    ["selinux", stageOne({ selinux: ok("Permissive") }), /Permissive, not Enforcing/],
    ["identity", stageOne({ identity: identity("uninitialized") }), /machine-id is "uninitialized"/],
    [
      "identity",
      stageOne({ identity: identity("8f2a5b7c9d1e4f3a2b6c8d0e1f3a5b7c", HOST_KEY, NOW - 3600) }),
      /predate this boot/,
    ],
    [
      "identity",
      stageOne({ identity: ok("machine-id 8f2a5b7c9d1e4f3a2b6c8d0e1f3a5b7c\nboot-time 1") }),
      /no SSH host keys/,
    ],
    [
      "packages-match",
      stageOne({ packages: ok("almalinux-release\nbash\ncloud-init\nopenssh-server\nnano") }),
      /only live: nano/,
    ],
  ])("%s fails on its defect alone (%#)", (name, broken, message) => {
    expect(only([broken], name).message).toMatch(message);
  });

  it("identity fails on a machine-id or host key the image carries, and on one shared by two boots", () => {
    const baked = {
      ...EXP,
      baked: { machineId: "8f2a5b7c9d1e4f3a2b6c8d0e1f3a5b7c", hostKeyFingerprints: [] },
    };
    expect(only([run()], "identity", baked).message).toMatch(/baked into the image/);
    const fp = hostKeyFingerprint(HOST_KEY)!;
    expect(only([run()], "identity", { ...EXP, baked: { hostKeyFingerprints: [fp] } }).message).toMatch(
      /ssh-ed25519 are baked/,
    );
    const second = run({
      index: 2,
      stageOne: { identity: identity("1234567890abcdef1234567890abcdef", HOST_KEY) },
      stageTwo: undefined,
    });
    expect(only([run(), second], "identity").message).toMatch(/same ssh-ed25519 host key/);
    const fresh = run({
      index: 2,
      stageOne: { identity: identity("1234567890abcdef1234567890abcdef", OTHER_KEY) },
      stageTwo: undefined,
    });
    expect(statuses([run(), fresh]).identity).toBe("pass");
  });

  it("without a login: boot-ssh fails, the console may still decide cloud-init, the rest is skipped with why", () => {
    const noSsh = run({
      ssh: { ok: false, failure: "rejected", message: "Permission denied (publickey)" },
      stageOne: undefined,
      stageTwo: undefined,
      seedFetchedSeconds: undefined,
      milestones: { kernel: 10, init: 20, "login-prompt": 100 },
    });
    const checks = runBootChecks([noSsh], EXP);
    const by = (n: string) => checks.find((c) => c.name === n)!;
    expect(by("boot-ssh")).toMatchObject({ status: "fail", found: "rejected" });
    expect(by("cloud-init")).toMatchObject({ status: "fail", found: "not run" });
    for (const n of ["units", "release", "selinux", "growpart", "identity"]) {
      expect(by(n).status).toBe("skip");
      expect(by(n).message).toMatch(/not checked: no SSH login \(Permission denied/);
    }
  });

  it("console-only boots (Azure, OCI) check the login prompt and the console and say why the rest is skipped", () => {
    const consoleOnly: BootExpectations = {
      ...EXP,
      mode: "console",
      consoleOnlyReason: "Azure images wait for Azure",
    };
    const booted = run({
      ssh: { ok: false, failure: "not-tried", message: "console-only boot" },
      stageOne: undefined,
      stageTwo: undefined,
    });
    const s = statuses([booted], consoleOnly);
    expect(s["login-prompt"]).toBe("pass");
    expect(s.console).toBe("pass");
    expect(s["boot-ssh"]).toBe("skip");
    expect(runBootChecks([booted], consoleOnly).find((c) => c.name === "cloud-init")!.message).toMatch(
      /Azure images wait/,
    );
    const hung = run({
      ...booted,
      milestones: { kernel: 10 },
      ended: { reason: "the time budget ran out", seconds: 600 },
    });
    expect(only([hung], "login-prompt", consoleOnly).message).toMatch(/no login prompt/);
  });

  it("computes host key fingerprints as ssh-keygen -l does", () => {
    const dir = mkdtempSync(join(tmpdir(), "boot-fp-"));
    try {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
      const line = readFileSync(join(dir, "k.pub"), "utf8");
      const oracle = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], {
        encoding: "utf8",
      }).split(" ")[1];
      expect(hostKeyFingerprint(line)).toBe(oracle);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
