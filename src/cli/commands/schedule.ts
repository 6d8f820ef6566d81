import type { Command } from "commander";
import { appendJobSummary } from "../../ci/github.js";
import { UsageError } from "../../errors.js";
import { planDispatches, renderPlanSummary } from "../../workflows/schedule.js";
import { action, printJson, printLines } from "../util.js";

interface ScheduleOptions {
  at?: string;
  cron?: string;
  workflow?: string;
  version?: string;
  json?: boolean;
  github?: boolean;
}

export function register(program: Command): void {
  program
    .command("schedule")
    .description(
      "what the scheduled-builds workflow dispatches: one `FILE VERSION` line per build workflow\n" +
        "(the week's version rotates 8 → 9 → 10 → 10-kitten; a cron picks its one workflow)",
    )
    .option("--at <TIME>", "the moment to plan for, ISO 8601 (default: now)")
    .option("--cron <CRON>", 'the schedule entry that fired, e.g. "17 4 * * 1" (empty: a manual run)')
    .option("--workflow <W>", "manual runs: all, or a workflow (gencloud or gencloud-build.yml…)", "all")
    .option("--version <V>", "manual runs: rotation, or a major version (10-kitten, 10, 9, 8)", "rotation")
    .option("--json", 'print {"week","version","versionFrom","dispatch":[…],"skipped":[…]}')
    .option("--github", "also append the plan to the job summary ($GITHUB_STEP_SUMMARY)")
    .addHelpText(
      "after",
      "\nWorkflows that build nothing of the version (OCI has no Kitten) are skipped and named on stderr.\n" +
        "\nExamples:\n" +
        '  cloud-images schedule --at 2027-01-04T04:17:00Z --cron "17 4 * * 1"\n' +
        "  cloud-images schedule --workflow oci --version 9 --json",
    )
    .action(action(schedule));
}

function schedule(opts: ScheduleOptions): number {
  const at = opts.at === undefined ? new Date() : new Date(opts.at);
  if (Number.isNaN(at.getTime())) {
    throw new UsageError(
      `invalid --at "${opts.at!.slice(0, 40)}" (valid: an ISO 8601 time, e.g. 2027-01-04T04:17:00Z)`,
    );
  }
  const plan = planDispatches({ at, cron: opts.cron, workflow: opts.workflow, version: opts.version });
  if (opts.github) appendJobSummary(renderPlanSummary(plan));
  for (const s of plan.skipped) process.stderr.write(`skipped ${s.file}: ${s.reason}\n`);
  if (opts.json) printJson(plan);
  else printLines(plan.dispatch.map((d) => `${d.file} ${d.version}`));
  return 0;
}
