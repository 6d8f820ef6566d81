/**
 * The boot test on the realistic guest (guestgen/: Debian 12 with real systemd, cloud-init, OpenSSH and
 * SELinux enforcing, AlmaLinux-like where the checks look, GPT in the AlmaLinux layout, booted by OVMF under
 * TCG): each copy with exactly one defect fails with the check named for it. The passing boot test of an
 * image built from this guest is the demo's (the README's first `run` example, in readme-examples.test.ts,
 * which must exit 0). Boots run two at a time; each ends as soon as its outcome is certain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenCopy, FAILING_UNIT, GUEST_DEFECTS, type GuestDefect } from "../../guestgen/broken.js";
import { type BuiltGuest, buildGuest } from "../../guestgen/index.js";
import { bootTest } from "../../src/boot/boot-test.js";
import type { BootTestResult } from "../../src/boot/result.js";
import { isRoot, missingTools } from "../demo/helpers.js";

const skip =
  (isRoot() ? null : "needs root (mmdebstrap, loop mounts)") ??
  missingTools(["mmdebstrap", "qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen", "losetup", "sgdisk"]);

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

const check = (r: BootTestResult, name: string) => r.checks.find((c) => c.name === name)!;

describe.skipIf(skip)(`boot-test on the realistic guest${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let tmp: string;
  let guest: BuiltGuest;
  const results = new Map<GuestDefect, BootTestResult>();
  const seconds = new Map<string, number>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "boot-guest-"));
    guest = await buildGuest({ log: (line) => console.log(line) });
    const boot = async (name: GuestDefect) => {
      // the broken copy sits in tmp, and so do its sidecars
      const image = join(tmp, `${name}.raw`);
      await brokenCopy(guest, name, image);
      const started = Date.now();
      const result = await bootTest(image, {
        ...guest.leg,
        accelerator: "auto",
        boots: name === "baked-machine-id" ? 2 : 1,
        offlinePackages: guest.packageNames,
        log: (line) => console.log(`[${name}] ${line}`),
      });
      seconds.set(name, (Date.now() - started) / 1000);
      results.set(name, result);
      rmSync(image, { force: true });
    };
    await pool(
      2,
      GUEST_DEFECTS.map((d) => () => boot(d)),
    );
    console.log(`boot times (s): ${JSON.stringify(Object.fromEntries(seconds))}`);
  }, 75 * 60_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each<[GuestDefect, string, RegExp]>([
    ["cloud-init-disabled", "cloud-init", /cloud-init did not run/],
    ["sshd-disabled", "boot-ssh", /no SSH login/],
    // systemd may ellipsize the unit's name on an 80-column console ("cloud-imag…s (cloud-images
    // boot-test defect)"): its description then names it
    [
      "failing-unit",
      "units",
      new RegExp(`${FAILING_UNIT.replace(".", "\\.")}|\\(cloud-images boot-test defect\\)`),
    ],
    ["kernel-panic", "console", /kernel-panic: .*Kernel panic - not syncing: Attempted to kill init/],
    ["growpart-removed", "growpart", /was not grown/],
    ["baked-machine-id", "identity", /baked into the image/],
  ])("fails the copy with %s on %s", (defect, name, message) => {
    const r = results.get(defect)!;
    expect(r.passed).toBe(false);
    expect(check(r, name).status, JSON.stringify(r.checks, null, 1)).toBe("fail");
    expect(check(r, name).message).toMatch(message);
    if (defect === "baked-machine-id") expect(r.stoppedEarly).toBeDefined();
  });
});
