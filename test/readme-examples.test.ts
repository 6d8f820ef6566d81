/**
 * Every example in the README, typed as written, in order, from the root of a copy of the repository
 * "after the Quickstart": `cloud-images` on the PATH (as `npm link` puts it) and the demo template
 * prepared (`run-demo.ts --prepare-only`); the README's first `run` example builds the image the later
 * ones use. Exit codes and the output the README shows must match. Examples marked as using a service
 * run against local stand-ins; unmarked ones get endpoints that refuse connections, so nothing ever
 * leaves this machine and an unmarked example that needs a service fails here.
 */
import { spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, kernelMissing, missingTools, QEMU } from "./demo/helpers.js";
import { REPO_ROOT } from "./helpers/cli.js";
import { runCommand } from "./helpers/process.js";
import { matchesShown, readmeExamples, type StandIn } from "./helpers/readme-examples.js";
import { buildRpms } from "./helpers/rpmbuild.js";
import { FakeWebhook } from "./notify/helpers/webhook.js";
import { type LocalS3, s3Env, startS3rver } from "./publish/helpers/s3rver.js";

const examples = readmeExamples(readFileSync(join(REPO_ROOT, "README.md"), "utf8"));

const skip =
  missingTools(["packer", QEMU, "rpm", "rpmbuild", "git", "bash"]) ??
  kernelMissing() ??
  (isRoot() ? null : "needs root (the demo's base image and kernel)");
if (skip) console.log(`skipping the README examples: ${skip}`);

/** A port nothing listens on: services an unmarked example reaches refuse the connection. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A static HTTP server standing in for the AlmaLinux mirror's almalinux-release-latest packages. */
async function startMirror(files: ReadonlyMap<string, Buffer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    if (!body) res.writeHead(404).end("not found");
    else res.writeHead(200, { "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/almalinux`, server };
}

/** The release packages the README's `release` examples read, built with rpmbuild. */
function mirrorFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [version, release, target] of [
    ["9.6", "1.el9", "x86_64"],
    ["10.1", "1.el10", "x86_64"],
    ["10.1", "1.el10", "x86_64_v2"],
    ["8.10", "1.el8", "x86_64"],
  ] as const) {
    const [rpm] = buildRpms({ target, packages: [{ name: "almalinux-release", version, release }] });
    files.set(
      `/almalinux/almalinux-release-latest-${version.split(".")[0]}.${target}.rpm`,
      readFileSync(rpm!),
    );
  }
  return files;
}

/** The files git knows (tracked and new), copied as a fresh clone would have them. */
async function copyRepository(to: string): Promise<void> {
  const listed = await runCommand("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
  });
  if (listed.code !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const path of listed.stdout.split("\0").filter(Boolean)) {
    mkdirSync(join(to, dirname(path)), { recursive: true });
    try {
      copyFileSync(join(REPO_ROOT, path), join(to, path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // deleted, not yet committed
    }
  }
}

/** Runs one example with bash in its own process group; ends the group on timeout. */
function runExample(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn("bash", ["-o", "pipefail", "-c", command], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000} s)`;
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe.skipIf(skip !== null)("README examples, typed as written after the Quickstart", () => {
  let root: string;
  let sandbox: string;
  let baseEnv: NodeJS.ProcessEnv;
  let s3: LocalS3;
  let webhook: FakeWebhook;
  let mirror: { url: string; server: Server };
  const standInEnv = {} as Record<StandIn, NodeJS.ProcessEnv>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "readme-examples-"));
    sandbox = join(root, "cloud-images");
    const bin = join(root, "bin");
    mkdirSync(bin);
    // As after `npm link`: `cloud-images` on the PATH runs this checkout's build.
    symlinkSync(join(REPO_ROOT, "bin/cloud-images.js"), join(bin, "cloud-images"));
    await copyRepository(sandbox);

    const refused = `http://127.0.0.1:${await closedPort()}`;
    const home = join(root, "home");
    mkdirSync(home);
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(GITHUB_|AWS_|MATTERMOST_|CLOUD_IMAGES_|RUNNER_)/.test(k),
      ),
    );
    baseEnv = {
      ...clean,
      ...s3Env(home),
      PATH: `${bin}:${process.env.PATH}`,
      CHECKPOINT_DISABLE: "1",
      CLOUD_IMAGES_MIRROR: refused,
      AWS_ENDPOINT_URL_S3: refused,
      GITHUB_ACTIONS: "",
    };

    [s3, webhook, mirror] = await Promise.all([
      startS3rver("almalinux-cloud"),
      new FakeWebhook().start(),
      startMirror(mirrorFiles()),
    ]);
    const github = join(root, "github");
    mkdirSync(github);
    for (const f of ["output", "env", "summary"]) writeFileSync(join(github, f), "");
    standInEnv.s3 = { AWS_ENDPOINT_URL_S3: s3.endpoint };
    standInEnv.mattermost = { MATTERMOST_WEBHOOK_URL: webhook.url(), MATTERMOST_CHANNEL: "cloud-images" };
    standInEnv.mirror = { CLOUD_IMAGES_MIRROR: mirror.url };
    standInEnv.github = {
      GITHUB_OUTPUT: join(github, "output"),
      GITHUB_ENV: join(github, "env"),
      GITHUB_STEP_SUMMARY: join(github, "summary"),
    };

    // The Quickstart's demo, prepared but not built: the README's first `run` example builds it.
    const prepare = await runCommand(
      join(REPO_ROOT, "node_modules/.bin/tsx"),
      [
        join(REPO_ROOT, "examples/demo/run-demo.ts"),
        "--dir",
        join(sandbox, "examples/demo"),
        "--prepare-only",
        "--accelerator",
        "tcg",
      ],
      { cwd: sandbox, env: baseEnv },
    );
    if (prepare.code !== 0) throw new Error(`preparing the demo failed: ${prepare.stderr}`);
    // (the test guest it prepares is built once per machine: the first time, mmdebstrap takes minutes)
  }, 2_700_000);

  afterAll(async () => {
    await Promise.all([
      s3?.close(),
      webhook?.close(),
      new Promise((r) => (mirror ? mirror.server.close(r) : r(0))),
    ]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("the README has examples, and the first run example builds the image the others use", () => {
    expect(examples.length).toBeGreaterThan(20);
    const firstRun = examples.findIndex((e) => e.command.startsWith("cloud-images run "));
    const firstImageUse = examples.findIndex((e) =>
      e.command.includes("output-almalinux-9-gencloud-x86_64/"),
    );
    expect(firstRun).toBeGreaterThanOrEqual(0);
    expect(firstRun).toBeLessThan(firstImageUse);
  });

  for (const example of examples) {
    const title = `README:${example.line} (${example.section}) $ ${example.command.slice(0, 90)}`;
    if (example.notRun) {
      it.skip(`${title} — not run: ${example.notRun}`, () => {});
      continue;
    }
    it(title, async () => {
      const env = { ...baseEnv };
      for (const use of example.uses) Object.assign(env, standInEnv[use]);
      // the first run example builds the demo: a Packer boot and a boot test of the realistic guest (TCG)
      const r = await runExample(example.command, sandbox, env, 1_800_000);
      const hint =
        `exit ${r.code}; stderr:\n${r.stderr.slice(-3000)}` +
        (example.uses.length === 0
          ? "\n(if it needs S3, Mattermost, the mirror or GitHub's files, mark its block <!-- example: uses …; why -->)"
          : "");
      expect(r.code, hint).toBe(example.exitCode);
      if (example.output) {
        expect(
          matchesShown(example.output, r.stdout),
          `stdout:\n${r.stdout}\nREADME shows:\n${example.output.join("\n")}`,
        ).toBe(true);
      }
    }, 1_860_000);
  }

  it("the stand-ins were used by the examples marked for them", () => {
    const marked = (s: StandIn) => examples.some((e) => !e.notRun && e.uses.includes(s));
    if (marked("mattermost")) expect(webhook.received.length).toBeGreaterThan(0);
    if (marked("github")) {
      const written = ["output", "env", "summary"].map((f) => readFileSync(join(root, "github", f), "utf8"));
      expect(written.join("")).not.toBe("");
    }
  });
});

describe("reading the README's examples", () => {
  const readme = [
    "## Section",
    "```sh",
    "$ cloud-images stamp --date-time-stamp 20260220143000",
    "time_stamp=20260220143000",
    "…",
    "$ cloud-images templates check --dir x \\",
    "    --leg a:9:x86_64     # exits 1",
    "```",
    "",
    "<!-- example: uses s3, github; it uploads to S3 in AWS -->",
    "```sh",
    "$ cloud-images publish f --store s3://b",
    "```",
    "<!-- example: not run; it needs the real templates -->",
    "```sh",
    "$ cloud-images run --templates ../cloud-images --type oci --variant 9 --arch x86_64",
    "```",
    "```sh",
    "npm test",
    "```",
  ].join("\n");

  it("commands, continuations, shown output, exit codes and markers", () => {
    expect(readmeExamples(readme)).toEqual([
      {
        line: 3,
        section: "Section",
        command: "cloud-images stamp --date-time-stamp 20260220143000",
        output: ["time_stamp=20260220143000", "…"],
        exitCode: 0,
        uses: [],
        notRun: undefined,
      },
      {
        line: 6,
        section: "Section",
        command: "cloud-images templates check --dir x  --leg a:9:x86_64     # exits 1",
        output: undefined,
        exitCode: 1,
        uses: [],
        notRun: undefined,
      },
      expect.objectContaining({ line: 12, uses: ["s3", "github"], notRun: undefined }),
      expect.objectContaining({ line: 16, notRun: "it needs the real templates" }),
    ]);
  });

  it("refuses a marker without a reason or with an unknown stand-in", () => {
    expect(() => readmeExamples("<!-- example: uses s3 -->\n```sh\n$ x\n```")).toThrow(/needs a reason/);
    expect(() =>
      readmeExamples("<!-- example: uses ftp; talks to an FTP server -->\n```sh\n$ x\n```"),
    ).toThrow(/unknown stand-in "ftp"/);
  });

  it("compares shown output, … standing for left-out text", () => {
    expect(matchesShown(["a", "…", "z"], "a\nb\nc\nz\n")).toBe(true);
    expect(matchesShown(["a", "…", "z"], "a\nz\n")).toBe(true);
    expect(
      matchesShown(["{", '  "release": "10.1",', "…", "}"], '{\n  "release": "10.1",\n  "url": null\n}\n'),
    ).toBe(true);
    expect(matchesShown(["x86_64 …"], "x86_64  azure  8")).toBe(true);
    expect(matchesShown(["a", "b"], "a\nb\nc")).toBe(false);
    expect(matchesShown(["9.6"], "9.60")).toBe(false);
    expect(matchesShown(["a.b"], "axb")).toBe(false);
  });
});
