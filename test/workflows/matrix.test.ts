// For every workflow × version × self-hosted, the legs GitHub would run (job conditions, needs, matrix
// expansion and the shared action's with: values, evaluated with GitHub's expression engine) must be
// exactly the catalog's matrix; each aarch64 leg gets its own ephemeral runner and none starts without one.
import { describe, expect, it } from "vitest";
import { type Arch, WORKFLOW_IDS, WORKFLOWS, type WorkflowId } from "../../src/catalog/catalog.js";
import { buildMatrix } from "../../src/catalog/matrix.js";
import {
  committedYaml,
  evaluateCondition,
  evaluateValue,
  expandMatrix,
  type Obj,
  WORKFLOW_PATHS,
} from "./gha.js";

const BUILD_JOBS: Record<Arch, string> = { x86_64: "build-gh-hosted", aarch64: "build-self-hosted" };
const RUNNER_JOB = "start-self-hosted-runner";
const OWNERS = ["AlmaLinux", "someone-else"];

interface RunPlan {
  legs: Record<Arch, string[]>;
  runners: number;
  runnerSteps: number;
  runsOn: Record<Arch, string[]>;
}

function context(version: string, selfHosted: boolean, owner: string): Obj {
  return {
    inputs: {
      date_time_stamp: "",
      version_major: version,
      "self-hosted": selfHosted,
      store_as_artifact: false,
      upload_to_s3: true,
      notify_mattermost: true,
    },
    github: { repository_owner: owner, run_id: "4242", repository: `${owner}/cloud-images` },
    vars: {},
    secrets: {},
    needs: { "init-data": { outputs: { time_stamp: "20260220143000", date_stamp: "20260220" } } },
  };
}

/** What GitHub would run for one dispatch of `id`. */
function plan(id: WorkflowId, version: string, selfHosted: boolean, owner: string): RunPlan {
  const doc = committedYaml(WORKFLOW_PATHS[id]);
  const jobs = doc.jobs as Record<string, Obj>;
  const ctx = context(version, selfHosted, owner);
  const runs = new Map<string, boolean>();
  const jobRuns = (name: string): boolean => {
    const known = runs.get(name);
    if (known !== undefined) return known;
    const job = jobs[name];
    if (!job) return false;
    const needs = ([] as string[]).concat((job.needs as string[] | string | undefined) ?? []);
    // Default status check: every needed job succeeded (a skipped one skips this one too).
    const result = needs.every(jobRuns) && evaluateCondition(job.if, ctx);
    runs.set(name, result);
    return result;
  };
  const result: RunPlan = {
    legs: { x86_64: [], aarch64: [] },
    runners: 0,
    runnerSteps: 0,
    runsOn: { x86_64: [], aarch64: [] },
  };
  for (const arch of ["x86_64", "aarch64"] as const) {
    const name = BUILD_JOBS[arch];
    if (!jobRuns(name)) continue;
    const job = jobs[name]!;
    const combos = expandMatrix(((job.strategy as Obj).matrix as Obj) ?? {}, ctx);
    expect(
      combos.length,
      `${id} ${version} ${name}: GitHub fails a job whose matrix is empty`,
    ).toBeGreaterThan(0);
    for (const matrix of combos) {
      const legCtx = { ...ctx, matrix };
      const step = (job.steps as Obj[]).find((s) => String(s.uses).endsWith("/.github/actions/shared-steps"));
      const w = step!.with as Obj;
      const [type, variant, legArch] = ["type", "variant", "arch"].map((k) => evaluateValue(w[k], legCtx));
      result.legs[arch].push(`${type} ${variant} ${legArch}`);
      result.runsOn[arch].push(String(evaluateValue(job["runs-on"], legCtx)));
    }
  }
  if (jobRuns(RUNNER_JOB)) {
    const job = jobs[RUNNER_JOB]!;
    const combos = expandMatrix((job.strategy as Obj).matrix as Obj, ctx);
    result.runners = combos.length;
    for (const matrix of combos) {
      for (const step of job.steps as Obj[]) {
        if (evaluateCondition(step.if, { ...ctx, matrix })) result.runnerSteps++;
      }
    }
  }
  return result;
}

function expected(
  id: WorkflowId,
  version: (typeof WORKFLOWS)[WorkflowId]["versions"][number],
  selfHosted: boolean,
) {
  const m = buildMatrix(id, version, selfHosted);
  return {
    x86_64: m.x86_64.map((l) => `${l.type} ${l.variant} x86_64`).sort(),
    aarch64: m.aarch64.map((l) => `${l.type} ${l.variant} aarch64`).sort(),
  };
}

describe("generated matrices equal the catalog's", () => {
  for (const id of WORKFLOW_IDS) {
    for (const version of WORKFLOWS[id].versions) {
      for (const selfHosted of [true, false]) {
        it(`${id} ${version} self-hosted=${selfHosted}`, () => {
          const want = expected(id, version, selfHosted);
          for (const owner of OWNERS) {
            const got = plan(id, version, selfHosted, owner);
            expect([...got.legs.x86_64].sort()).toEqual(want.x86_64);
            expect([...got.legs.aarch64].sort()).toEqual(want.aarch64);
            // Ephemeral runners take one job each: one runner per aarch64 leg, none without legs.
            expect(got.runners).toBe(want.aarch64.length);
            expect(got.runnerSteps).toBe(owner === "AlmaLinux" ? 0 : want.aarch64.length);
            for (const label of got.runsOn.x86_64) {
              expect(label).toBe(
                owner === "AlmaLinux"
                  ? "runs-on=4242/family=c7i.metal-24xl+c7a.metal-48xl+*8gd.metal*/image=ubuntu24-full-x64"
                  : "ubuntu-24.04",
              );
            }
            for (const label of got.runsOn.aarch64) {
              expect(label).toBe(
                owner === "AlmaLinux"
                  ? "runs-on=4242/family=a1.metal/image=almalinux-9-aarch64/volume=40g"
                  : "4242",
              );
            }
          }
        });
      }
    }
  }

  it("Azure 8 starts no runner and no aarch64 job", () => {
    const got = plan("azure", "8", true, "someone-else");
    expect(got.runners).toBe(0);
    expect(got.legs.aarch64).toEqual([]);
    expect(got.legs.x86_64).toEqual(["azure 8 x86_64"]);
  });

  it("offers exactly the catalog's versions, OCI without Kitten", () => {
    for (const id of WORKFLOW_IDS) {
      const inputs = ((committedYaml(WORKFLOW_PATHS[id]).on as Obj).workflow_dispatch as Obj).inputs as Obj;
      const version = inputs.version_major as Obj;
      expect(version.options).toEqual([...WORKFLOWS[id].versions]);
      expect(version.default).toBe("10");
    }
    const oci = ((committedYaml(WORKFLOW_PATHS.oci).on as Obj).workflow_dispatch as Obj).inputs as Obj;
    expect((oci.version_major as Obj).options).toEqual(["10", "9", "8"]);
  });
});
