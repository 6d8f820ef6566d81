/**
 * `cloud-images run` interrupted mid-build, with real Packer and QEMU (TCG) on the demo template and a
 * guest that never powers off: SIGINT and SIGTERM are forwarded, waited for, recorded in the manifest
 * and end the tool with 128 + the signal; SIGKILL of the tool leaves the watchdog to end Packer and
 * QEMU. A second run of the leg while the first builds is refused and deletes nothing. Every check on
 * processes is for this run's own (found by a tag in their environment), never by name.
 *
 * The template under test is FAST_TEMPLATE: any template whose build starts QEMU quickly and whose guest
 * can be told to hang through an *.auto.pkrvars.hcl file works (see hangGuest).
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LegManifest } from "../../src/manifest/manifest.js";
import { DEMO_DIR, TEMPLATE as FAST_TEMPLATE, isRoot, kernelMissing, missingTools } from "../demo/helpers.js";
import { prepareDemo } from "../fixtures/busybox-leg/lib/prepare.js";
import { CLI, REPO_ROOT } from "../helpers/cli.js";
import {
  killTagged,
  newTag,
  TAG_VARIABLE,
  taggedProcesses,
  waitForTagged,
  waitForTaggedGone,
} from "../helpers/tagged-processes.js";

const TS = "20260220143000";
const LEG = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];
const OUT = "output-almalinux-9-gencloud-x86_64";

const skip =
  missingTools(["packer", "/usr/bin/qemu-system-x86_64", "/bin/busybox"]) ??
  kernelMissing() ??
  (isRoot() ? null : "needs root (imagegen, kernel)");
if (skip) console.log(`skipping the run interruption tests: ${skip}`);

/** The demo guest with an init that does not exist: the kernel panics and, with panic=0, stays up. */
function hangGuest(dir: string): void {
  writeFileSync(
    join(dir, "hang.auto.pkrvars.hcl"),
    'extra_kernel_args = "rdinit=/no-such-init"\nshutdown_timeout = "30m"\n',
  );
}

describe.skipIf(skip !== null)("cloud-images run, interrupted", () => {
  let dir: string;
  let stateDir: string;
  const tags: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pipeline-interrupt-"));
    stateDir = join(dir, "state");
    cpSync(join(DEMO_DIR, FAST_TEMPLATE), join(dir, FAST_TEMPLATE));
    await prepareDemo({ dir, buildStamp: TS, accelerator: "tcg" });
    hangGuest(dir);
  }, 600_000);

  afterAll(() => {
    for (const tag of tags) killTagged(tag);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `run` on the hanging guest; resolves once its QEMU runs. */
  async function startRun(extra: string[] = []) {
    const tag = newTag();
    tags.push(tag);
    const tool = spawn(
      process.execPath,
      [CLI, "run", "--templates", dir, ...LEG, "--timestamp", TS, "--store", "none", ...extra],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          [TAG_VARIABLE]: tag,
          CLOUD_IMAGES_STATE_DIR: stateDir,
          CHECKPOINT_DISABLE: "1",
          GITHUB_ACTIONS: "",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    tool.stderr!.on("data", (d) => (stderr += d));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      tool.once("exit", (code, signal) => resolve({ code, signal })),
    );
    // The build's QEMU (not prepare's `qemu-system-x86_64 --version`): it boots the demo's initrd.
    const qemu = await waitForTagged(tag, /qemu-system-x86_64 .*-initrd/, 240_000);
    const packer = taggedProcesses(tag).find((p) => /^packer /.test(p.command));
    expect(packer, "Packer runs under the tool").toBeDefined();
    return { tag, tool, exit, qemu, stderr: () => stderr };
  }

  const earlyManifest = (): LegManifest => {
    const legs = join(stateDir, "legs");
    const [legDir] = readdirSync(legs);
    return JSON.parse(readFileSync(join(legs, legDir!, "manifest.json"), "utf8"));
  };

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s mid-build: forwarded to Packer and QEMU, recorded, exit %i, nothing of the run left",
    async (signal, code) => {
      const run = await startRun();
      if (signal === "SIGINT") {
        // Meanwhile a second run of the same leg is refused and deletes nothing, --clean or not.
        const second = await new Promise<{ code: number; stderr: string }>((resolve) => {
          const p = spawn(
            process.execPath,
            [CLI, "run", "--templates", dir, ...LEG, "--timestamp", TS, "--store", "none", "--clean"],
            {
              cwd: REPO_ROOT,
              env: { ...process.env, CLOUD_IMAGES_STATE_DIR: stateDir },
              stdio: ["ignore", "pipe", "pipe"],
            },
          );
          let err = "";
          p.stderr!.on("data", (d) => (err += d));
          p.once("close", (c) => resolve({ code: c ?? -1, stderr: err }));
        });
        expect(second.code).toBe(3);
        expect(second.stderr.trim()).toMatch(
          new RegExp(
            `^cloud-images: error: ${dir}/${OUT} is in use by pid ${run.tool.pid} since \\S+ \\(cloud-images run gencloud 9 x86_64\\); wait for it to finish or stop it$`,
          ),
        );
        expect(existsSync(join(dir, OUT))).toBe(true);
        expect(taggedProcesses(run.tag).some((p) => p.pid === run.qemu.pid)).toBe(true);
      }
      const signalled = Date.now();
      run.tool.kill(signal);
      const left = await waitForTaggedGone(run.tag, 10_000);
      expect(left, "processes of the run still there 10 s after the signal").toEqual([]);
      console.log(
        `${signal}: every process of the run gone after ${((Date.now() - signalled) / 1000).toFixed(1)} s`,
      );
      expect(await run.exit).toEqual({ code, signal: null });
      const lines = run.stderr().trimEnd().split("\n");
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^cloud-images: interrupted by ${signal} during build, its processes stopped; manifest: ${stateDir}/legs/${OUT}-[0-9a-f]{12}/manifest\\.json$`,
        ),
      );
      expect(lines.filter((l) => l.startsWith("cloud-images:"))).toHaveLength(1);
      const m = earlyManifest();
      expect(m.interrupted).toMatchObject({ step: "build", signal });
      expect(Date.parse(m.interrupted!.at)).toBeGreaterThanOrEqual(signalled - 1000);
      expect(m.steps.map((s) => [s.name, s.status])).toEqual([
        ["prepare", "ok"],
        ["build", "interrupted"],
      ]);
      // Nothing written into the templates directory but Packer's own output directory.
      expect(existsSync(join(dir, `${OUT}.manifest.json`))).toBe(false);
      expect(existsSync(join(dir, `${OUT}.packer.log`))).toBe(false);
    },
    360_000,
  );

  it("SIGKILL of the tool: the watchdog ends Packer and QEMU, and the dead run's lock does not block the next", async () => {
    const run = await startRun(["--clean"]);
    const killed = Date.now();
    run.tool.kill("SIGKILL");
    expect(await run.exit).toEqual({ code: null, signal: "SIGKILL" });
    const left = await waitForTaggedGone(run.tag, 10_000);
    expect(left, "processes of the run still there 10 s after the tool was killed").toEqual([]);
    console.log(
      `SIGKILL: every process of the run gone after ${((Date.now() - killed) / 1000).toFixed(1)} s`,
    );
    const next = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        [
          CLI,
          "run",
          "--templates",
          dir,
          ...LEG,
          "--timestamp",
          TS,
          "--store",
          "none",
          "--clean",
          "--to",
          "prepare",
        ],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, CLOUD_IMAGES_STATE_DIR: stateDir },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let err = "";
      p.stderr!.on("data", (d) => (err += d));
      p.once("close", (c) => resolve({ code: c ?? -1, stderr: err }));
    });
    expect(next.stderr).not.toMatch(/in use/);
    expect(next.code, next.stderr).toBe(0);
  }, 360_000);
});
