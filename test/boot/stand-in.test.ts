/**
 * The boot test's control flow against a stand-in QEMU (test/boot/stand-in/qemu.mjs): chosen console text,
 * a NoCloud seed fetched and phoned home to over the real loopback server, a real sshd (or none) on the
 * forwarded port running the boot test's real scripts in a fake guest root over a real SSH connection.
 * Timeouts, panics, QEMU exiting early, SSH refused, failing check commands, interrupts, two tests at once.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import { type BootTestOptions, bootTest } from "../../src/boot/boot-test.js";
import type { BootTestResult } from "../../src/boot/result.js";
import { isRoot, missingTools } from "../demo/helpers.js";
import { runCli } from "../helpers/cli.js";
import { type FakeGuestFacts, makeFakeGuest } from "./stand-in/guest.js";

const STAND_IN = fileURLToPath(new URL("./stand-in/qemu.mjs", import.meta.url));
const skip =
  (isRoot() ? null : "needs root (sshd, chroot, imagegen)") ??
  missingTools(["/usr/sbin/sshd", "ssh", "ssh-keygen", "qemu-img", "/bin/busybox", "chroot"]);

interface Scenario {
  console?: { at: number; text: string }[];
  fetchSeedAt?: number;
  phoneHomeAt?: number;
  sshd?: { at: number };
  /** An sshd that accepts connections and never answers. */
  silentSshdAt?: number;
  exitAt?: number;
  exitCode?: number;
  exitMessage?: string;
  guest?: FakeGuestFacts;
}

const BOOT_CONSOLE = [
  { at: 0.1, text: "BdsDxe: starting Boot0001\r\n" },
  { at: 0.3, text: "[    0.000000] Linux version 6.1.0-57-cloud-amd64 (stand-in)\r\n" },
  { at: 0.6, text: "[    1.000000] Run /init as init process\r\n" },
  { at: 0.9, text: "[    5.000000] cloud-init[300]: Cloud-init v. 22.4.2 running 'init' at now.\r\n" },
  {
    at: 1.6,
    text: "[   20.000000] cloud-init[400]: Cloud-init v. 22.4.2 finished at now. Up 20 seconds\r\n",
  },
  { at: 1.8, text: "\r\ncloud-images-boot-test login: " },
];

describe.skipIf(skip)(`boot-test with a stand-in QEMU${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let tmp: string;
  let image: BuiltImage;

  beforeAll(async () => {
    chmodSync(STAND_IN, 0o755);
    tmp = mkdtempSync(join(tmpdir(), "boot-stand-in-"));
    image = await buildImage({
      arch: "x86_64",
      el: "9",
      release: "9.6",
      rootfs: "xfs",
      formats: ["qcow2"],
      diskSize: "3G",
    });
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Lays out one scenario (fake guest, sshd host key) and runs the library's boot test with it. */
  async function run(
    name: string,
    scenario: Scenario,
    options: Partial<BootTestOptions> = {},
  ): Promise<{ result: BootTestResult; dir: string; seconds: number }> {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    const root = join(dir, "guest");
    makeFakeGuest(root, { packages: image.expected.packageNames, ...scenario.guest });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
    const file = join(dir, "scenario.json");
    const { guest: _facts, sshd, ...rest } = scenario;
    writeFileSync(
      file,
      JSON.stringify({
        ...rest,
        ...(sshd ? { sshd: { ...sshd, dir, root } } : {}),
        record: join(dir, "qemu.json"),
      }),
    );
    const copy = join(dir, "image.qcow2");
    execFileSync("cp", [image.paths.qcow2!, copy]);
    const started = Date.now();
    const result = await bootTest(copy, {
      type: "gencloud",
      variant: "9",
      arch: "x86_64",
      release: "9.6",
      qemu: STAND_IN,
      accelerator: "kvm",
      timeoutSeconds: 60,
      sshGraceSeconds: 3,
      // the stand-in's sshd runs on this machine: log in as root (its commands run in the fake guest root)
      user: "root",
      env: { ...process.env, STANDIN_SCENARIO: file },
      ...options,
    });
    return { result, dir, seconds: (Date.now() - started) / 1000 };
  }

  const check = (r: BootTestResult, name: string) => r.checks.find((c) => c.name === name)!;
  const standInPid = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, "qemu.json"), "utf8")) as { pid: number }).pid;
  const alive = (pid: number) =>
    existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

  it("passes a guest that boots, phones home and answers every check", async () => {
    const { result, dir } = await run("pass", {
      console: BOOT_CONSOLE,
      fetchSeedAt: 0.8,
      phoneHomeAt: 1.7,
      sshd: { at: 1.0 },
    });
    expect(
      result.checks.filter((c) => c.status === "fail"),
      JSON.stringify(result.checks, null, 1),
    ).toEqual([]);
    expect(result.passed).toBe(true);
    for (const name of [
      "boot-ssh",
      "console",
      "cloud-init",
      "units",
      "release",
      "release-arch",
      "growpart",
      "root-filesystem",
      "selinux",
      "identity",
      "packages-match",
    ])
      expect(check(result, name).status, name).toBe("pass");
    expect(check(result, "login-prompt").status).toBe("skip");
    const boot = result.boots[0]!;
    expect(boot.seedFetchedSeconds).toBeGreaterThan(0);
    expect(boot.phoneHomeSeconds).toBeGreaterThan(0);
    expect(boot.phases.firmware).toBeGreaterThan(0);
    expect(boot.phases.kernel).toBeGreaterThanOrEqual(0);
    expect(Object.keys(boot.milestones).sort()).toEqual([
      "cloud-init",
      "cloud-init-done",
      "init",
      "kernel",
      "login-prompt",
    ]);
    // the console log and the result sit beside the image; QEMU is gone, its work files too
    const imagePath = join(dir, "image.qcow2");
    expect(readFileSync(`${imagePath}.console.log`, "utf8")).toContain("Linux version 6.1.0-57-cloud-amd64");
    expect(JSON.parse(readFileSync(`${imagePath}.boot.json`, "utf8")).passed).toBe(true);
    expect(alive(standInPid(dir))).toBe(false);
    // the command line: no display, no VNC, no port but the loopback SSH forward, the overlay not the image
    const args = (JSON.parse(readFileSync(join(dir, "qemu.json"), "utf8")) as { args: string[] }).args.join(
      " ",
    );
    expect(args).toContain("-display none");
    expect(args).not.toMatch(/-vnc|-spice|-monitor (tcp|telnet)/);
    expect(args).toMatch(/hostfwd=tcp:127\.0\.0\.1:\d+-:22/);
    expect(args).toMatch(/file=[^,]*\/disk\.qcow2,format=qcow2/);
    expect(args).not.toContain(`file=${imagePath},`);
  });

  it("ends at once on a kernel panic and names it", async () => {
    const { result, dir, seconds } = await run("panic", {
      console: [
        { at: 0.3, text: "[    0.000000] Linux version 6.1.0 (stand-in)\n" },
        {
          at: 0.6,
          text: "[    2.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\n",
        },
      ],
    });
    expect(result.passed).toBe(false);
    expect(check(result, "console")).toMatchObject({ status: "fail", found: "kernel-panic" });
    expect(check(result, "console").message).toContain("Attempted to kill init");
    expect(result.boots[0]!.ended.reason).toBe("kernel-panic on the console");
    expect(seconds).toBeLessThan(15);
    expect(result.consoleTail?.some((l) => l.includes("Kernel panic"))).toBe(true);
    expect(alive(standInPid(dir))).toBe(false);
  });

  it("fails boot-ssh when QEMU exits early, with QEMU's last message", async () => {
    const { result, seconds } = await run("exit", {
      console: [{ at: 0.2, text: "BdsDxe: starting\n" }],
      exitAt: 1,
      exitCode: 1,
      exitMessage: "qemu-system-x86_64: -drive file=x: Could not open backing file",
    });
    expect(check(result, "boot-ssh")).toMatchObject({ status: "fail", found: "qemu-exited" });
    expect(check(result, "boot-ssh").message).toContain("Could not open backing file");
    expect(seconds).toBeLessThan(15);
  });

  it("fails boot-ssh once SSH is still refused after cloud-init finished, without waiting for the budget", async () => {
    const { result, seconds } = await run("refused", {
      console: BOOT_CONSOLE,
      fetchSeedAt: 0.8,
      phoneHomeAt: 1.7,
    });
    expect(check(result, "boot-ssh").status).toBe("fail");
    expect(check(result, "boot-ssh").message).toMatch(/after cloud-init finished/);
    expect(check(result, "cloud-init").status).toBe("skip");
    expect(result.stoppedEarly).toMatch(/no SSH login 3 s after cloud-init finished/);
    expect(seconds).toBeLessThan(30);
  });

  it("keeps trying while the guest's sshd accepts connections but is slow to answer, until the budget ends", async () => {
    const { result, seconds } = await run(
      "slow-sshd",
      { console: BOOT_CONSOLE, fetchSeedAt: 0.8, phoneHomeAt: 1.7, silentSshdAt: 0.5 },
      { timeoutSeconds: 20 },
    );
    expect(check(result, "boot-ssh")).toMatchObject({ status: "fail", found: "deadline" });
    expect(check(result, "boot-ssh").message).toMatch(/no login within the 20 s budget \(last: .*time/);
    expect(result.stoppedEarly ?? "").not.toMatch(/no SSH login/);
    expect(seconds).toBeGreaterThanOrEqual(19);
  });

  it("fails boot-ssh at the end of its budget when nothing happens", async () => {
    const { result, seconds } = await run(
      "timeout",
      { console: [{ at: 0.2, text: "BdsDxe: starting\n" }] },
      { timeoutSeconds: 10 },
    );
    expect(check(result, "boot-ssh")).toMatchObject({ status: "fail", found: "deadline" });
    expect(seconds).toBeGreaterThanOrEqual(9);
    expect(seconds).toBeLessThan(25);
  });

  // Each check's verdict on each answer is unit-tested (checks.test.ts); here two failing commands run for real.
  it.each<[string, FakeGuestFacts, string, RegExp]>([
    [
      "cloud-init-error",
      { cloudInit: { status: "error", errors: ["('ssh', KeyError('x'))"] } },
      "cloud-init",
      /status is error: .*KeyError/,
    ],
    [
      "degraded",
      { state: "degraded", failedUnits: ["broken.service"] },
      "units",
      /degraded; failed: broken\.service/,
    ],
  ])("fails %s with the named check, the others passing", async (name, facts, failing, message) => {
    const { result } = await run(
      `cmd-${name}`,
      { console: BOOT_CONSOLE, fetchSeedAt: 0.8, phoneHomeAt: 1.7, sshd: { at: 1.0 }, guest: facts },
      { keepGoing: true },
    );
    expect(check(result, failing).status, JSON.stringify(check(result, failing))).toBe("fail");
    expect(check(result, failing).message).toMatch(message);
    expect(result.checks.filter((c) => c.status === "fail").map((c) => c.name)).toEqual([failing]);
  });

  it("stops at the first login when a check there already failed, unless --keep-going", async () => {
    const { result } = await run("certain", {
      console: BOOT_CONSOLE,
      fetchSeedAt: 0.8,
      phoneHomeAt: 1.7,
      sshd: { at: 1.0 },
      guest: { selinux: "Disabled" },
    });
    expect(check(result, "selinux").status).toBe("fail");
    expect(result.stoppedEarly).toMatch(/first login: selinux failed/);
    expect(check(result, "cloud-init").status).toBe("skip");
  });

  it("with --boots 2, fails identity when both boots show one machine-id", async () => {
    const { result } = await run(
      "same-identity",
      {
        console: BOOT_CONSOLE,
        fetchSeedAt: 0.8,
        phoneHomeAt: 1.7,
        sshd: { at: 1.0 },
        guest: { machineId: "0123456789abcdef0123456789abcdef" },
      },
      { boots: 2 },
    );
    expect(result.boots).toHaveLength(2);
    expect(check(result, "identity").status).toBe("fail");
    expect(check(result, "identity").message).toMatch(/boots 1 and 2 have the same machine-id/);
    expect(check(result, "identity").message).toMatch(/same ssh-ed25519 host key/);
  });

  it("two boot tests at once use their own ports and files", async () => {
    const scenario = { console: BOOT_CONSOLE, fetchSeedAt: 0.8, phoneHomeAt: 1.7, sshd: { at: 1.0 } };
    const [a, b] = await Promise.all([run("twin-a", scenario), run("twin-b", scenario)]);
    expect(a.result.passed).toBe(true);
    expect(b.result.passed).toBe(true);
    const port = (dir: string) =>
      /hostfwd=tcp:127\.0\.0\.1:(\d+)/.exec(readFileSync(join(dir, "qemu.json"), "utf8"))![1];
    expect(port(a.dir)).not.toBe(port(b.dir));
  });

  it("an interrupted boot-test stops QEMU, removes its files and exits 130", async () => {
    const dir = join(tmp, "interrupt");
    mkdirSync(dir, { recursive: true });
    makeFakeGuest(join(dir, "guest"));
    const file = join(dir, "scenario.json");
    writeFileSync(
      file,
      JSON.stringify({ console: [{ at: 0.2, text: "BdsDxe\n" }], record: join(dir, "qemu.json") }),
    );
    const work = join(dir, "work");
    const cli = runCli(
      [
        "boot-test",
        image.paths.qcow2!,
        "--type",
        "gencloud",
        "--variant",
        "9",
        "--arch",
        "x86_64",
        "--release",
        "9.6",
        "--qemu",
        STAND_IN,
        "--accel",
        "kvm",
        "--console-log",
        join(dir, "console.log"),
      ],
      { env: { STANDIN_SCENARIO: file, TMPDIR: work } },
    );
    mkdirSync(work, { recursive: true });
    for (let i = 0; i < 200 && !existsSync(join(dir, "qemu.json")); i++)
      await new Promise((r) => setTimeout(r, 100));
    const qemuPid = standInPid(dir);
    const cliPid = Number(
      execFileSync("sh", ["-c", `ps -o ppid= -p ${qemuPid}`], { encoding: "utf8" }).trim(),
    );
    process.kill(cliPid, "SIGINT");
    const r = await cli;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT/);
    expect(alive(qemuPid)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });
});
