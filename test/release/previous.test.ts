/**
 * `report` with an index in the store: it finds the leg's previous indexed build by itself and adds
 * the package diff (added, removed, upgraded with versions, from both builds' SBOMs) and the size
 * change to the job summary and the Mattermost message. Two runs of one leg are published and
 * released into a file store; the webhook is a local HTTP server.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStore } from "../../src/publish/file-store.js";
import { runCli } from "../helpers/cli.js";
import { FakeWebhook } from "../notify/helpers/webhook.js";
import { tempDir } from "../publish/helpers/files.js";
import { type PublishedLeg, publishLeg } from "./helpers/published-run.js";

const work = tempDir("release-previous");
afterAll(() => work.cleanup());

const leg = { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" } as const;
const env = {
  CLOUD_IMAGES_SIGNING_KEY: "",
  CLOUD_IMAGES_ATTESTATION_KEY: "",
  ACTIONS_ID_TOKEN_REQUEST_URL: "",
  GITHUB_STEP_SUMMARY: "",
};

describe("report: what changed since the previous indexed build", () => {
  const bucket = join(work.dir, "bucket");
  let first: PublishedLeg;
  let second: PublishedLeg;

  beforeAll(async () => {
    const store = new FileStore(bucket);
    first = await publishLeg(store, join(work.dir, "b1"), join(work.dir, "m1"), {
      ...leg,
      timeStamp: "20260213143000",
      size: 96 * 1024,
      packages: [
        "bash@5.1.8-9.el9",
        "cloud-init@23.4-7.el9",
        "kernel@5.14.0-503.el9",
        "oldtool@1.0-1.el9",
        "tar@1.34-6.el9",
      ],
    });
    second = await publishLeg(store, join(work.dir, "b2"), join(work.dir, "m2"), {
      ...leg,
      timeStamp: "20260220143000",
      size: 128 * 1024,
      packages: [
        "bash@5.1.8-9.el9",
        "cloud-init@23.4-19.el9",
        "kernel@5.14.0-570.el9",
        "newtool@2.0-1.el9",
        "tar@1.34-6.el9",
      ],
    });
    // Both runs released (unsigned is enough for the index); the second run after the first.
    for (const m of ["m1", "m2"]) {
      const r = await runCli(["release", "--manifests", join(work.dir, m), "--store", `file://${bucket}`], {
        env,
      });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it("the job summary and the Mattermost message carry the diff and the size change", async () => {
    const hook = await new FakeWebhook().start();
    try {
      const r = await runCli(["report", "--manifest", second.manifestPath, "--mattermost"], {
        env: { ...env, MATTERMOST_WEBHOOK_URL: hook.url() },
      });
      expect(r.code, r.stderr).toBe(0);
      const text = JSON.parse(hook.received[0]!.body).text as string;
      const summary = (await runCli(["report", "--manifest", second.manifestPath], { env })).stdout;
      for (const message of [text, summary]) {
        expect(message).toContain(
          "**Since the previous build** `20260213143000` (release 9.6): image 96.0 KiB → 128.0 KiB (+32.0 KiB)",
        );
        expect(message).toContain(
          "**Packages** compared with the previous build: 5 → 5, 1 added, 1 removed, 2 upgraded",
        );
        expect(message).toContain("- Added (1): `newtool 2.0-1.el9`");
        expect(message).toContain("- Removed (1): `oldtool 1.0-1.el9`");
        expect(message).toContain(
          "- Upgraded (2): `cloud-init 23.4-7.el9 → 23.4-19.el9`, `kernel 5.14.0-503.el9 → 5.14.0-570.el9`",
        );
      }
    } finally {
      await hook.close();
    }
  });

  it("finds the build from the store even when the local files are gone; the first build has no previous one", async () => {
    rmSync(second.imagePath.replace(/[^/]+$/, ""), { recursive: true, force: true });
    const r = await runCli(["report", "--manifest", second.manifestPath], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("2 upgraded");
    const firstReport = await runCli(["report", "--manifest", first.manifestPath], { env });
    expect(firstReport.code, firstReport.stderr).toBe(0);
    expect(firstReport.stdout).not.toContain("Since the previous build");
    expect(firstReport.stdout).not.toContain("**Packages**");
    const off = await runCli(["report", "--manifest", second.manifestPath, "--no-previous"], { env });
    expect(off.stdout).not.toContain("Since the previous build");
  });
});
