// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
// scheduled-builds.yml and `cloud-images schedule`: every cron firing of a year, evaluated from the
// committed file, dispatches exactly one build workflow with the week's version; the rotation agrees
// with upstream's formula run by bash and `date`; the Dispatch step, run by bash with a stand-in `gh`,
// dispatches what the plan says.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VERSIONS, WORKFLOW_IDS, WORKFLOWS } from "../../src/catalog/catalog.js";
import {
  planDispatches,
  ROTATION,
  rotationVersion,
  rotationWeek,
  SCHEDULED_WORKFLOWS,
  scheduleEntries,
} from "../../src/workflows/schedule.js";
import { REPO_ROOT, runCli } from "../helpers/cli.js";
import { committedYaml, evaluateCondition, type Obj, SCHEDULED_PATH, WORKFLOW_PATHS } from "./gha.js";

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const doc = committedYaml(SCHEDULED_PATH);
const on = doc.on as Obj;
const crons = (on.schedule as { cron: string }[]).map((s) => s.cron);

/**
 * A cron entry as a test on a UTC minute. Only what the generated file may hold is understood:
 * numbers and `*` in the five fields; anything else fails the test.
 */
function cronMatcher(cron: string): (at: Date) => boolean {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((f) => /^(\*|[0-9]+)$/.test(f))) {
    throw new Error(`cron "${cron}" uses syntax this test does not evaluate`);
  }
  const want = fields.map((f) => (f === "*" ? undefined : Number(f)));
  return (at) => {
    const now = [at.getUTCMinutes(), at.getUTCHours(), at.getUTCDate(), at.getUTCMonth() + 1, at.getUTCDay()];
    return want.every((w, i) => w === undefined || w === now[i]);
  };
}

/** Every firing of the committed schedule during [from, to), minute by minute. */
function firings(from: Date, to: Date): { at: Date; cron: string }[] {
  const matchers = crons.map((cron) => ({ cron, fires: cronMatcher(cron) }));
  const out: { at: Date; cron: string }[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
    const at = new Date(t);
    for (const { cron, fires } of matchers) if (fires(at)) out.push({ at, cron });
  }
  return out;
}

const YEAR_START = new Date("2027-01-01T00:00:00Z");
const YEAR_END = new Date("2028-01-01T00:00:00Z");
const year = firings(YEAR_START, YEAR_END);

describe("the committed schedule over a year (2027)", () => {
  it("holds one cron per build workflow and the library's entries", () => {
    expect(crons).toEqual(scheduleEntries().map((e) => e.cron));
    expect([...SCHEDULED_WORKFLOWS].sort()).toEqual([...WORKFLOW_IDS].sort());
  });

  it("fires four times every Monday, two hours apart, away from the top of the hour", () => {
    expect(year.length).toBe(52 * 4);
    for (const { at } of year) {
      expect(at.getUTCDay()).toBe(1);
      expect(at.getUTCMinutes()).not.toBe(0);
    }
    const hours = [...new Set(year.map((f) => f.at.getUTCHours()))].sort((a, b) => a - b);
    expect(hours.slice(1).map((h, i) => h - hours[i]!)).toEqual(Array(hours.length - 1).fill(2));
  });

  it("each firing dispatches exactly its own workflow, with the week's version", () => {
    for (const { at, cron } of year) {
      const plan = planDispatches({ at, cron });
      const all = [...plan.dispatch.map((d) => d.workflow), ...plan.skipped.map((s) => s.workflow)];
      expect(all).toHaveLength(1);
      expect(scheduleEntries().find((e) => e.cron === cron)?.workflow).toBe(all[0]);
      expect(plan.version).toBe(rotationVersion(at));
    }
  });

  it("every Monday builds one version with every workflow; consecutive weeks rotate 8 → 9 → 10 → 10-kitten", () => {
    expect(ROTATION).toEqual(["8", "9", "10", "10-kitten"]);
    const byDay = new Map<string, { workflow: string; version: string; skipped: boolean }[]>();
    for (const { at, cron } of year) {
      const plan = planDispatches({ at, cron });
      const day = at.toISOString().slice(0, 10);
      const list = byDay.get(day) ?? [];
      for (const d of plan.dispatch) list.push({ workflow: d.workflow, version: d.version, skipped: false });
      for (const s of plan.skipped) list.push({ workflow: s.workflow, version: plan.version, skipped: true });
      byDay.set(day, list);
    }
    const weeks = [...byDay.values()];
    for (const week of weeks) {
      expect(week.map((w) => w.workflow).sort()).toEqual([...WORKFLOW_IDS].sort());
      expect(new Set(week.map((w) => w.version)).size).toBe(1);
      // Only a workflow without the week's version is skipped (OCI on Kitten weeks).
      for (const w of week) {
        const offered = (
          WORKFLOWS[w.workflow as keyof typeof WORKFLOWS].versions as readonly string[]
        ).includes(w.version);
        expect(w.skipped).toBe(!offered);
      }
    }
    const versions = weeks.map((w) => w[0]!.version);
    for (let i = 1; i < versions.length; i++) {
      const prev = ROTATION.indexOf(versions[i - 1] as (typeof ROTATION)[number]);
      expect(versions[i]).toBe(ROTATION[(prev + 1) % ROTATION.length]);
    }
    // Over the year every version is built 13 times by every workflow that offers it.
    for (const v of VERSIONS) expect(versions.filter((x) => x === v)).toHaveLength(13);
    const oci = weeks.flat().filter((w) => w.workflow === "oci");
    expect(oci.filter((w) => w.skipped).map((w) => w.version)).toEqual(Array(13).fill("10-kitten"));
  });

  it("fires at least two days from a rotation boundary (the week turns on Thursdays 00:00 UTC)", () => {
    const WEEK = 7 * 24 * 3600_000;
    for (const { at } of year) {
      const week = rotationWeek(at);
      const sinceTurn = at.getTime() - week * WEEK;
      const untilTurn = (week + 1) * WEEK - at.getTime();
      expect(new Date(week * WEEK).getUTCDay()).toBe(4);
      expect(Math.min(sinceTurn, untilTurn)).toBeGreaterThanOrEqual(2 * 24 * 3600_000);
      // So a firing GitHub delays by a day still builds its Monday's version.
      expect(rotationVersion(new Date(at.getTime() + 24 * 3600_000))).toBe(rotationVersion(at));
    }
  });

  it("agrees with upstream's formula, weeks since the epoch modulo the versions, computed by bash and date", () => {
    const mondays = [...new Set(year.map((f) => f.at.toISOString().slice(0, 16)))];
    const script = `
      VERSIONS=(8 9 10 10-kitten)
      while read -r t; do
        idx=$(( ($(date -u -d "$t" +%s) / 604800) % \${#VERSIONS[@]} ))
        echo "\${VERSIONS[idx]}"
      done`;
    const out = execFileSync("bash", ["-c", script], { input: `${mondays.join("\n")}\n`, encoding: "utf8" });
    expect(out.trim().split("\n")).toEqual(mondays.map((m) => rotationVersion(new Date(`${m}:00Z`))));
  });
});

describe("manual runs and bad input", () => {
  const at = new Date("2027-03-01T10:00:00Z");

  it("all workflows by default; a workflow by id or file; a version by hand", () => {
    expect(planDispatches({ at }).dispatch.map((d) => d.file)).toEqual(
      SCHEDULED_WORKFLOWS.map((w) => WORKFLOWS[w].file),
    );
    expect(planDispatches({ at, workflow: "oci-build.yml", version: "9" })).toMatchObject({
      version: "9",
      versionFrom: "input",
      dispatch: [{ workflow: "oci", file: "oci-build.yml", version: "9" }],
      skipped: [],
    });
    expect(planDispatches({ at, workflow: "oci", version: "10-kitten" })).toMatchObject({
      dispatch: [],
      skipped: [{ workflow: "oci", reason: "builds no 10-kitten images" }],
    });
  });

  it("refuses an unknown cron, workflow or version with one line naming what is valid (exit 2)", async () => {
    for (const [args, valid] of [
      [["--cron", "0 0 * * *"], '"17 2 * * 1"'],
      [["--workflow", "gcp-build.yml"], "gencloud-build.yml"],
      [["--version", "7"], "rotation, 10-kitten"],
      [["--at", "yesterday"], "ISO 8601"],
    ] as const) {
      const r = await runCli(["schedule", ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(valid);
    }
  });

  it("--json and --github (the job summary)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedule-"));
    temps.push(dir);
    const summary = join(dir, "summary.md");
    writeFileSync(summary, "");
    const r = await runCli(
      ["schedule", "--at", "2027-01-04T02:17:00Z", "--version", "10-kitten", "--json", "--github"],
      {
        env: { GITHUB_STEP_SUMMARY: summary },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("skipped oci-build.yml: builds no 10-kitten images\n");
    const plan = JSON.parse(r.stdout) as { dispatch: { file: string }[]; versionFrom: string };
    expect(plan.versionFrom).toBe("input");
    expect(plan.dispatch.map((d) => d.file)).toEqual([
      "opennebula-build.yml",
      "gencloud-build.yml",
      "azure-build.yml",
    ]);
    const text = readFileSync(summary, "utf8");
    expect(text).toContain("- **Version**: `10-kitten` (chosen by hand)");
    expect(text).toContain("- Dispatching: `azure-build.yml` (version `10-kitten`)");
    expect(text).toContain("- Skipped: `oci-build.yml` (builds no 10-kitten images)");
  });
});

describe("scheduled-builds.yml as GitHub runs it", () => {
  const job = (doc.jobs as Record<string, Obj>).dispatch!;
  const inputs = (on.workflow_dispatch as Obj).inputs as Record<string, Obj>;

  it("offers every scheduled workflow and version by hand", () => {
    expect(inputs.target_workflow!.options).toEqual([
      "all",
      ...SCHEDULED_WORKFLOWS.map((w) => WORKFLOWS[w].file),
    ]);
    expect(inputs.version_major!.options).toEqual(["rotation", ...VERSIONS]);
  });

  it("fires on the timer only where the repository turned it on; manual runs anywhere", () => {
    const run = (event: string, vars: Obj) =>
      evaluateCondition(job.if, { github: { event_name: event, repository: "someone/cloud-images" }, vars });
    expect(run("schedule", {})).toBe(false);
    expect(run("schedule", { SCHEDULED_BUILDS: "false" })).toBe(false);
    expect(run("schedule", { SCHEDULED_BUILDS: "true" })).toBe(true);
    expect(run("workflow_dispatch", {})).toBe(true);
  });

  it("may dispatch workflows and nothing else", () => {
    expect(doc.permissions).toEqual({});
    expect(job.permissions).toEqual({ actions: "write", contents: "read" });
  });

  it("dispatches every build workflow it names with a version_major that workflow offers", () => {
    for (const { at, cron } of year.slice(0, 8)) {
      for (const d of planDispatches({ at, cron }).dispatch) {
        const target = committedYaml(WORKFLOW_PATHS[d.workflow]);
        const choice = (((target.on as Obj).workflow_dispatch as Obj).inputs as Record<string, Obj>)
          .version_major!;
        expect(choice.options as string[]).toContain(d.version);
      }
    }
  });

  /** Runs the Dispatch step's script with bash, the built CLI in tool/ and a `gh` that records its arguments. */
  function runDispatchStep(env: Record<string, string>): string[][] {
    const dir = mkdtempSync(join(tmpdir(), "dispatch-step-"));
    temps.push(dir);
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(REPO_ROOT, join(dir, "tool"));
    const calls = join(dir, "gh-calls");
    writeFileSync(join(bin, "gh"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${calls}"\n`);
    chmodSync(join(bin, "gh"), 0o755);
    writeFileSync(calls, "");
    const step = (job.steps as Obj[]).find((s) => s.name === "Dispatch")!;
    const summary = join(dir, "summary.md");
    writeFileSync(summary, "");
    execFileSync("bash", ["-e", "-c", String(step.run)], {
      cwd: dir,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        GITHUB_REF_NAME: "main",
        GITHUB_REPOSITORY: "someone/cloud-images",
        GITHUB_STEP_SUMMARY: summary,
        ...env,
      },
      encoding: "utf8",
    });
    return readFileSync(calls, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" "));
  }

  it("the Dispatch step runs `gh workflow run` for what the plan holds", () => {
    // A scheduled firing: the event's cron, no inputs. The step uses the current week, so compare with the plan.
    const cron = crons[1]!;
    const plan = planDispatches({ at: new Date(), cron });
    expect(runDispatchStep({ CRON: cron, TARGET: "", VERSION: "" })).toEqual(
      plan.dispatch.map((d) => [
        "workflow",
        "run",
        d.file,
        "-f",
        `version_major=${d.version}`,
        "--ref",
        "main",
        "--repo",
        "someone/cloud-images",
      ]),
    );
    // A manual run for every workflow with Kitten: OCI is left out.
    const manual = runDispatchStep({ CRON: "", TARGET: "all", VERSION: "10-kitten" });
    expect(manual.map((c) => [c[2], c[4]])).toEqual([
      ["opennebula-build.yml", "version_major=10-kitten"],
      ["gencloud-build.yml", "version_major=10-kitten"],
      ["azure-build.yml", "version_major=10-kitten"],
    ]);
  });
});
