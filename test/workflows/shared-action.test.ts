// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
// The shared action's conditions, names and scripts evaluated as GitHub would (its expression engine,
// bash): RunsOn metrics, the opt-in Packer CPUs, artifacts named after the image, and the job
// environment upstream's test and release actions read after it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WORKFLOW_IDS } from "../../src/catalog/catalog.js";
import { upstreamJobEnv } from "../../src/pipeline/job-env.js";
import { resolve } from "../../src/resolve/resolve.js";
import { runCli } from "../helpers/cli.js";
import {
  ACTION_PATH,
  committedYaml,
  evaluateCondition,
  evaluateValue,
  type Obj,
  WORKFLOW_PATHS,
} from "./gha.js";

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const steps = (committedYaml(ACTION_PATH).runs as Obj).steps as Obj[];
const step = (name: string): Obj => {
  const found = steps.find((s) => String(s.name).startsWith(name));
  if (!found) throw new Error(`no step "${name}"`);
  return found;
};

const IMAGE_NAME = "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2";

describe("RunsOn metrics", () => {
  const runs = (env: Obj) => evaluateCondition(step("RunsOn metrics").if, { env });

  it("only on RunsOn runners whose image is not AlmaLinux (no CloudWatch agent there)", () => {
    expect(runs({ RUNS_ON_VERSION: "v2.8.3", RUNS_ON_AMI_NAME: "runs-on-v2.2-ubuntu24-full-x64" })).toBe(
      true,
    );
    expect(runs({ RUNS_ON_VERSION: "v2.8.3", RUNS_ON_AMI_NAME: "AlmaLinux OS 9.6.20250522 aarch64" })).toBe(
      false,
    );
    expect(runs({})).toBe(false);
    expect(runs({ RUNS_ON_AMI_NAME: "ubuntu24-full-x64" })).toBe(false);
  });
});

describe("Packer CPUs: opt-in through the PACKER_CPUS variable", () => {
  const cpus = step("Give the Packer build VM more CPUs");

  it("the build workflows pass the variable; unset, the step does not run", () => {
    for (const id of WORKFLOW_IDS) {
      const jobs = committedYaml(WORKFLOW_PATHS[id]).jobs as Record<string, Obj>;
      for (const [name, job] of Object.entries(jobs).filter(([n]) => n.startsWith("build-"))) {
        const use = (job.steps as Obj[]).find((s) => String(s.uses).endsWith("shared-steps"))!;
        const value = (use.with as Obj).packer_cpus;
        // An unset variable is null in an expression and an empty input to the action.
        expect(evaluateValue(value, { vars: {} }) ?? "", `${id} ${name}`).toBe("");
        expect(evaluateValue(value, { vars: { PACKER_CPUS: "92" } })).toBe("92");
      }
    }
    expect(evaluateCondition(cpus.if, { inputs: { packer_cpus: "" } })).toBe(false);
    expect(evaluateCondition(cpus.if, { inputs: { packer_cpus: "92" } })).toBe(true);
  });

  /** The step's script under bash, as the runner runs it; returns its status and what it added to $GITHUB_ENV. */
  function runStep(value: string): { status: number | null; env: string; stdout: string } {
    const dir = mkdtempSync(join(tmpdir(), "packer-cpus-"));
    temps.push(dir);
    const envFile = join(dir, "github-env");
    writeFileSync(envFile, "");
    const r = spawnSync("bash", ["-e", "-c", String(cpus.run)], {
      cwd: dir,
      env: { ...process.env, GITHUB_ENV: envFile, PACKER_CPUS: value },
      encoding: "utf8",
    });
    return { status: r.status, env: readFileSync(envFile, "utf8"), stdout: r.stdout };
  }

  it("sets PKR_VAR_cpus to a whole number, and refuses anything else without touching the environment", () => {
    expect(runStep("92")).toMatchObject({ status: 0, env: "PKR_VAR_cpus=92\n" });
    for (const bad of ["0", "nproc-4", "4\nPKR_VAR_memory=1", "$(touch pwned)", "8 ", "-1", "99999"]) {
      const r = runStep(bad);
      expect(r.status, JSON.stringify(bad)).toBe(1);
      expect(r.env).toBe("");
      expect(r.stdout).toContain("::error::PACKER_CPUS must be a whole number");
    }
    expect(existsSync(join(temps.at(-1)!, "pwned"))).toBe(false);
  });

  it("upstream's fixed nproc-4 is gone", () => {
    expect(JSON.stringify(steps)).not.toMatch(/nproc/);
  });
});

describe("artifacts named after the image file, as upstream names them", () => {
  const ctx = (imageName: string) => ({
    env: { IMAGE_NAME: imageName },
    inputs: { type: "gencloud", variant: "9", arch: "x86_64" },
  });
  const nameOf = (stepName: string, imageName = IMAGE_NAME) =>
    evaluateValue((step(stepName).with as Obj).name, ctx(imageName));

  it("image, .sha256sum and .txt; the manifest and SBOM beside them", () => {
    expect(nameOf("Store the image as")).toBe(IMAGE_NAME);
    expect(nameOf("Store the checksum")).toBe(`${IMAGE_NAME}.sha256sum`);
    expect(nameOf("Store the package list")).toBe(`${IMAGE_NAME}.txt`);
    expect(nameOf("Store the manifest and SBOM")).toBe(`${IMAGE_NAME}.manifest`);
  });

  it("a leg that failed before it had an image still stores its manifest under the leg's name", () => {
    expect(nameOf("Store the manifest and SBOM", "")).toBe("gencloud-9-x86_64.manifest");
  });
});

describe("the job environment after the action (what upstream's test and release actions read)", () => {
  it("the run step exports it (--github)", () => {
    expect(String(step("Build, verify and publish").run)).toMatch(/ --github\n$/);
  });

  it("IMAGE_FILE, IMAGE_NAME, AWS_S3_PATH, RELEASE_STRING and the rest of upstream's names", () => {
    const resolved = resolve({
      type: "gencloud",
      variant: "10-v2",
      arch: "x86_64",
      release: "10.1",
      timestamp: "20260220143000",
    });
    const image =
      "/w/templates/output-almalinux_10_gencloud_x86_64_v2/AlmaLinux-10-GenericCloud-10.1-20260220.0.x86_64_v2.qcow2";
    expect(upstreamJobEnv({ resolved, imagePath: image })).toEqual({
      version_major: "10",
      alma_arch: "x86_64_v2",
      IMAGE_TYPE: "Gencloud",
      RELEASE: "10.1",
      RELEASE_STRING: "AlmaLinux release 10.1",
      RELEASE_PACKAGE: "almalinux-release",
      AWS_S3_PATH: "images/10/10.1/gencloud/20260220143000",
      IMAGE_FILE: image,
      IMAGE_NAME: "AlmaLinux-10-GenericCloud-10.1-20260220.0.x86_64_v2.qcow2",
    });
    // Before prepare resolved the leg there is nothing to tell.
    expect(upstreamJobEnv({})).toEqual({});
  });

  it("`run --github` refuses to start when $GITHUB_ENV is not set, before any work", async () => {
    const leg = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];
    const r = await runCli(["run", ...leg, "--templates", "examples/demo", "--store", "none", "--github"], {
      env: { GITHUB_OUTPUT: "/dev/null", GITHUB_ENV: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "cloud-images: error: GITHUB_ENV is not set (this option only works inside GitHub Actions)\n",
    );
  });
});
