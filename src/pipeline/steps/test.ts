/**
 * test: the boot test (src/boot) on the verified image: QEMU on an overlay, the leg's credentials, the
 * live checks, IMAGE.boot.json and IMAGE.console.log beside the image. A failed boot test is recorded, the
 * report still runs, nothing is published and the leg exits 1, as for a failed verification.
 * `--no-boot-test` skips it (recorded as skipped, tests.boot n/a).
 */
import { readFile } from "node:fs/promises";
import { bootFiles, bootTest } from "../../boot/boot-test.js";
import { requiredPackages } from "../../policy/leg.js";
import { setupPolicy } from "../../policy/setup.js";
import type { Step } from "../context.js";

/** How many console lines a failed boot test prints (the README promises 50). */
const CONSOLE_TAIL = 50;

async function readNames(path: string | undefined): Promise<string[] | undefined> {
  if (!path) return undefined;
  try {
    return (await readFile(path, "utf8"))
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return undefined; // the boot test reads the image's database itself
  }
}

async function legRequiredPackages(ctx: Parameters<Step["run"]>[0]) {
  const setup = await setupPolicy({ leg: ctx.leg, policyFile: ctx.options.policyFile });
  return setup ? requiredPackages(ctx.leg, setup.policy) : [];
}

export const test: Step = {
  name: "test",

  async run(ctx) {
    const { options, state } = ctx;
    const boot = options.bootTest ?? {};
    if (boot.enabled === false) {
      ctx.manifest.tests = { ...ctx.manifest.tests, boot: "n/a" };
      delete ctx.manifest.bootTest;
      return { status: "skipped", outputs: { reason: "--no-boot-test" } };
    }
    const image = state.imagePath!;
    const resolved = state.resolved!;
    const result = await bootTest(image, {
      type: ctx.leg.type,
      variant: ctx.leg.variant,
      arch: ctx.leg.arch,
      release: resolved.release,
      offlinePackages: await readNames(state.packagesPath),
      // the packages verify's policy requires (a --policy file included), checked live
      requiredPackages: boot.requiredPackages ?? (await legRequiredPackages(ctx)),
      ...(boot.timeoutSeconds !== undefined ? { timeoutSeconds: boot.timeoutSeconds } : {}),
      ...(boot.boots !== undefined ? { boots: boot.boots } : {}),
      ...(boot.accelerator !== undefined ? { accelerator: boot.accelerator } : {}),
      ...(boot.qemu !== undefined ? { qemu: boot.qemu } : {}),
      env: ctx.env,
      signal: ctx.signal,
      log: (line) => ctx.log(line),
    });
    ctx.manifest.tests = { ...ctx.manifest.tests, boot: result.passed ? "passed" : "failed" };
    ctx.manifest.bootTest = {
      passed: result.passed,
      accelerator: result.accelerator,
      seconds: result.seconds,
      checks: result.checks,
      boots: result.boots.map((b) => ({ index: b.index, phases: { ...b.phases }, ended: b.ended.reason })),
      ...(result.stoppedEarly ? { stoppedEarly: result.stoppedEarly } : {}),
    };
    for (const c of result.checks) {
      const line = `${c.status.toUpperCase().padEnd(4)} ${c.name}: ${c.message}`;
      if (c.status === "fail" || c.status === "warn") ctx.warn(line);
      else ctx.log(line);
    }
    const failed = result.checks.filter((c) => c.status === "fail");
    if (failed.length > 0 && result.consoleTail?.length) {
      ctx.log(`last ${Math.min(CONSOLE_TAIL, result.consoleTail.length)} console lines:`);
      for (const l of result.consoleTail.slice(-CONSOLE_TAIL)) ctx.log(`  | ${l}`);
    }
    return {
      outputs: {
        passed: result.passed,
        accelerator: result.accelerator,
        seconds: result.seconds,
        resultFile: bootFiles.result(image),
        consoleLog: result.boots[0]?.consoleLog ?? bootFiles.console(image),
      },
      ...(failed.length > 0
        ? {
            failed: `boot test failed: ${failed
              .map((c) => `${c.name} (expected ${c.expected ?? "?"}, found ${c.found ?? "?"})`)
              .join("; ")}`,
          }
        : {}),
    };
  },

  describe(ctx) {
    if (ctx.options.bootTest?.enabled === false) return ["nothing (--no-boot-test)"];
    return [
      "boot IMAGE in QEMU on an overlay (KVM if it works, else TCG), log in over SSH and check it → IMAGE.boot.json, IMAGE.console.log",
    ];
  },
};
