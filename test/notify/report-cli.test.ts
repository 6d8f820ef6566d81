/** `cloud-images report` end to end: the real CLI bundle, a local webhook server, a job summary file. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../publish/helpers/files.js";
import { type Answer, FakeWebhook } from "./helpers/webhook.js";

const DATA = fileURLToPath(new URL("../data/notify/", import.meta.url));
const GENCLOUD = `${DATA}gencloud-9-x86_64.manifest.json`;
const expected = (name: string) => readFileSync(`${DATA}expected/${name}`, "utf8");
const KEY = "x1y2z3secretkey0123456789";
const work = tempDir("report-cli");
afterAll(() => work.cleanup());

const hooks: FakeWebhook[] = [];
afterEach(async () => {
  for (const h of hooks.splice(0)) await h.close();
});
async function hook(answers?: Answer[]): Promise<FakeWebhook> {
  const h = await new FakeWebhook(answers).start();
  hooks.push(h);
  return h;
}

/** Nothing from the test runner's own environment leaks in. */
const CLEAN: NodeJS.ProcessEnv = {
  GITHUB_STEP_SUMMARY: undefined,
  GITHUB_SERVER_URL: undefined,
  GITHUB_REPOSITORY: undefined,
  GITHUB_RUN_ID: undefined,
  GITHUB_TRIGGERING_ACTOR: undefined,
  GITHUB_ACTOR: undefined,
  MATTERMOST_WEBHOOK_URL: undefined,
  MATTERMOST_CHANNEL: undefined,
  MATTERMOST_USERNAME: undefined,
  MATTERMOST_ICON_URL: undefined,
};
const RUN_ENV = {
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "AlmaLinux/cloud-images",
  GITHUB_RUN_ID: "13338451234",
  GITHUB_TRIGGERING_ACTOR: "octocat",
};

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("report --manifest", () => {
  it("prints the job summary when not in Actions", async () => {
    const r = await runCli(["report", "--manifest", GENCLOUD], { env: CLEAN });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(expected("gencloud-summary.md"));
  });

  it("appends the summary to $GITHUB_STEP_SUMMARY", async () => {
    const file = join(work.dir, "step-summary.md");
    writeFileSync(file, "earlier step\n");
    const r = await runCli(["report", "--manifest", GENCLOUD, "--summary"], {
      env: { ...CLEAN, GITHUB_STEP_SUMMARY: file },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(file, "utf8")).toBe(`earlier step\n${expected("gencloud-summary.md")}`);
  });

  it("posts the seed's Mattermost message with the run link, channel and user", async () => {
    const h = await hook();
    const r = await runCli(["report", "--manifest", GENCLOUD, "--mattermost"], {
      env: { ...CLEAN, ...RUN_ENV, MATTERMOST_WEBHOOK_URL: h.url(), MATTERMOST_CHANNEL: "cloud-builds" },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(oneLine(r.stderr)).toBe(
      `cloud-images: Mattermost message delivered to http://127.0.0.1:${h.port}/*** (1 attempt)`,
    );
    expect(h.received).toHaveLength(1);
    expect(JSON.parse(h.received[0]!.body)).toEqual({
      channel: "cloud-builds",
      username: "octocat",
      text: expected("gencloud-mattermost.md"),
    });
  });

  it("a failed notification: summary still written, one masked error line, exit 1", async () => {
    const h = await hook([{ status: 500 }]);
    const file = join(work.dir, "summary-failed.md");
    writeFileSync(file, "");
    const r = await runCli(["report", "--manifest", GENCLOUD, "--summary", "--mattermost", "--json"], {
      env: { ...CLEAN, GITHUB_STEP_SUMMARY: file, MATTERMOST_WEBHOOK_URL: h.url() },
    });
    expect(r.code).toBe(1);
    expect(readFileSync(file, "utf8")).toBe(expected("gencloud-summary.md"));
    expect(h.received).toHaveLength(4);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("cloud-images: error"));
    expect(errors).toEqual([
      `cloud-images: error: Mattermost notification to http://127.0.0.1:${h.port}/*** failed after 4 attempts: HTTP 500`,
    ]);
    const json = JSON.parse(r.stdout);
    expect(json.summary).toBe(expected("gencloud-summary.md"));
    expect(json.mattermost).toMatchObject({ delivered: false, attempts: 4, status: 500 });
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain("/hooks/");
  });

  it("artifact links, and the package diff against the previous build", async () => {
    const h = await hook();
    const m = `${DATA}opennebula-10-v2-artifacts.manifest.json`;
    const name = "AlmaLinux-10-OpenNebula-10.1-20260220.0.x86_64_v2.qcow2";
    const base = "https://github.com/AlmaLinux/cloud-images/actions/runs/1/artifacts";
    const r = await runCli(
      [
        "report",
        "--manifest",
        m,
        "--mattermost",
        "--artifact-url",
        `${name}=${base}/101`,
        "--artifact-url",
        `${name}.sha256sum=${base}/102`,
        "--json",
      ],
      { env: { ...CLEAN, MATTERMOST_WEBHOOK_URL: h.url() } },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(h.received[0]!.body).text).toBe(expected("opennebula-artifacts-mattermost.md"));
    const diff = await runCli(
      [
        "report",
        "--manifest",
        GENCLOUD,
        "--previous-packages",
        `${DATA}AlmaLinux-9-GenericCloud-9.5-20241120.x86_64.qcow2.txt`,
      ],
      { env: CLEAN },
    );
    expect(diff.code).toBe(0);
    expect(diff.stdout.startsWith(expected("gencloud-summary.md"))).toBe(true);
    expect(diff.stdout).toMatch(
      /\n\*\*Packages\*\* compared with the previous build: 384 → 392, \d+ added, \d+ removed\n- Added/,
    );
  });

  it.each([
    ["{ not json", /is not valid JSON/],
    [JSON.stringify({ schemaVersion: 1 }), /is not a leg manifest: leg: /],
    [
      JSON.stringify({ ...JSON.parse(readFileSync(GENCLOUD, "utf8")), tests: { offline: "maybe" } }),
      /is not a leg manifest: tests\.offline: /,
    ],
  ])("a manifest that does not parse: one line, exit 2 (%#)", async (text, why) => {
    const file = join(work.dir, `bad-${Math.random().toString(36).slice(2)}.manifest.json`);
    writeFileSync(file, text);
    const r = await runCli(["report", "--manifest", file], { env: CLEAN });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(why);
    expect(r.stdout).toBe("");
  });

  it.each([
    [["--manifest", "/nonexistent/x.manifest.json"], {}, /cannot open manifest .*: no such file/],
    [["--manifest", GENCLOUD, "--mattermost"], {}, /--mattermost needs MATTERMOST_WEBHOOK_URL/],
    [
      ["--manifest", GENCLOUD, "--mattermost"],
      { MATTERMOST_WEBHOOK_URL: `http://chat.example.org/hooks/${KEY}` },
      /must use https \(plain http is allowed only for loopback\), got http:\/\/chat\.example\.org\/\*\*\*$/,
    ],
    [["--manifest", GENCLOUD, "--manifests", DATA], {}, /exactly one of --manifest FILE or --manifests DIR/],
    [["--manifest", GENCLOUD, "--artifact-url", "x=ftp://y"], {}, /invalid --artifact-url/],
  ])("bad input %j: one line, exit 2", async (args, env, why) => {
    const r = await runCli(["report", ...args], { env: { ...CLEAN, ...env } });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(why);
    expect(r.stderr).not.toContain(KEY);
  });
});

describe("report --manifests", () => {
  it("one table and one Mattermost message for the whole run", async () => {
    const h = await hook();
    const r = await runCli(["report", "--manifests", `${DATA}run`, "--summary", "--mattermost"], {
      env: { ...CLEAN, ...RUN_ENV, MATTERMOST_WEBHOOK_URL: h.url() },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected("run-summary.md"));
    expect(h.received).toHaveLength(1);
    const [first, ...rest] = expected("run-summary.md").trimEnd().split("\n");
    expect(JSON.parse(h.received[0]!.body).text).toBe(
      [
        `:almalinux: ${first}, by the GitHub [Action](https://github.com/AlmaLinux/cloud-images/actions/runs/13338451234)`,
        ...rest,
      ].join("\n"),
    );
  });

  it("a directory without manifests is bad input", async () => {
    const empty = join(work.dir, "empty");
    mkdirSync(empty);
    const r = await runCli(["report", "--manifests", empty], { env: CLEAN });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/no \*\.manifest\.json files under/);
  });
});
