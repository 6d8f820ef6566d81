// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
/**
 * The final release job of each build workflow: it follows every leg, finds the manifests the legs hand
 * over, runs `cloud-images release` with the signing secrets, and runs actions/attest-build-provenance
 * (pinned) only when the repository opts in. Its command is run here on manifests laid out as
 * download-artifact lays them out, and the subjects file it writes is checked with sha256sum -c.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileStore } from "../../src/publish/file-store.js";
import { ACTIONS, uses } from "../../src/workflows/pins.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../publish/helpers/files.js";
import { publishLeg } from "../release/helpers/published-run.js";
import { ACTION_PATH, committedYaml, evaluateValue, type Obj, WORKFLOW_PATHS } from "./gha.js";

const work = tempDir("release-job");
afterAll(() => work.cleanup());

type Step = Obj & {
  name: string;
  uses?: string;
  with?: Obj;
  env?: Record<string, string>;
  run?: string;
  if?: string;
};

const handOver = (committedYaml(ACTION_PATH).runs as { steps: Step[] }).steps.find(
  (s) => s.name === "Hand the manifest to the release job",
)!;

describe("the release job", () => {
  for (const [id, path] of Object.entries(WORKFLOW_PATHS)) {
    it(`${id}: follows every leg, signs with the secrets, attests only when asked`, () => {
      const jobs = committedYaml(path).jobs as Record<string, Obj>;
      const release = jobs.release as Obj & { steps: Step[]; needs: string[] };
      const builds = Object.keys(jobs).filter((j) => j.startsWith("build-"));
      expect(builds.length).toBeGreaterThan(0);
      expect(release.needs.sort()).toEqual(["init-data", ...builds].sort());
      // It runs whatever the legs' outcome, but only when legs publish to S3.
      expect(release.if).toBe("${{ !cancelled() && inputs.upload_to_s3 }}");

      const download = release.steps.find((s) => s.uses === uses(ACTIONS.downloadArtifact))!;
      const sign = release.steps.find((s) => s.name === "Sign and index the published legs")!;
      const attest = release.steps.find((s) => s.uses === uses(ACTIONS.attestBuildProvenance))!;
      expect(sign.run).toBe(
        'node tool/bin/cloud-images.js release --manifests legs --store "$STORE" --summary --subjects subjects.sha256sum\n',
      );
      expect(download.with?.path).toBe("legs");
      for (const secret of [
        "CLOUD_IMAGES_SIGNING_KEY",
        "CLOUD_IMAGES_SIGNING_PASSPHRASE",
        "CLOUD_IMAGES_ATTESTATION_KEY",
      ]) {
        expect(sign.env?.[secret]).toBe(`\${{ secrets.${secret} }}`);
      }
      expect(evaluateValue(sign.env?.STORE, { vars: { AWS_S3_BUCKET: "almalinux-cloud" } })).toBe(
        "s3://almalinux-cloud",
      );
      expect(attest.if).toContain("vars.ATTEST_BUILD_PROVENANCE == 'true'");
      expect(attest.with).toEqual({ "subject-checksums": "subjects.sha256sum" });

      // The pattern it downloads matches the artifact every leg hands over.
      const pattern = new RegExp(`^${String(download.with?.pattern).replace("*", ".*")}$`);
      const name = evaluateValue(handOver.with?.name, {
        inputs: { type: "gencloud_ext4", variant: "10-kitten-v2", arch: "x86_64" },
      });
      expect(name).toBe("leg-manifest-gencloud_ext4-10-kitten-v2-x86_64");
      expect(String(name)).toMatch(pattern);
    });
  }

  it("legs hand over their manifest only when they publish to S3, even after a failed step", () => {
    expect(handOver.if).toBe(
      "${{ !cancelled() && inputs.upload_to_s3 == 'true' && steps.run.outputs.manifest != '' }}",
    );
    expect(handOver.uses).toBe(uses(ACTIONS.uploadArtifact));
  });

  it("its command releases manifests laid out as download-artifact writes them; --subjects passes sha256sum -c", async () => {
    const bucket = join(work.dir, "bucket");
    const store = new FileStore(bucket);
    const legs = join(work.dir, "legs");
    const specs = [
      { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6", timeStamp: "20260220143000" },
      { type: "gencloud_ext4", variant: "9", arch: "aarch64", release: "9.6", timeStamp: "20260220143000" },
    ] as const;
    const images: string[] = [];
    for (const spec of specs) {
      const leg = await publishLeg(store, join(work.dir, "build"), join(work.dir, "m"), spec);
      // download-artifact: one directory per artifact, named after it.
      const into = join(legs, `leg-manifest-${spec.type}-${spec.variant}-${spec.arch}`);
      mkdirSync(into, { recursive: true });
      cpSync(leg.manifestPath, join(into, leg.manifestPath.split("/").pop()!));
      images.push(leg.imagePath);
    }
    const r = await runCli(
      [
        "release",
        "--manifests",
        "legs",
        "--store",
        `file://${bucket}`,
        "--summary",
        "--subjects",
        "subjects.sha256sum",
      ],
      {
        cwd: work.dir,
        env: { CLOUD_IMAGES_SIGNING_KEY: "", CLOUD_IMAGES_ATTESTATION_KEY: "", GITHUB_STEP_SUMMARY: "" },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("### Release: 2 image(s)");
    const subjects = readFileSync(join(work.dir, "subjects.sha256sum"), "utf8");
    expect(subjects.trim().split("\n")).toHaveLength(2);
    for (const image of images) {
      const line = subjects.split("\n").find((l) => l.endsWith(`  ${image.split("/").pop()}`))!;
      expect(
        execFileSync("sha256sum", ["-c", "-"], { cwd: dirname(image), input: `${line}\n`, encoding: "utf8" }),
      ).toMatch(/: OK\n$/);
    }
  });
});
