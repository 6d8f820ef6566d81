import type { Command } from "commander";
import { appendGithubOutputs } from "../../ci/github.js";
import { parseTimeStamp, stampsFor } from "../../resolve/stamp.js";
import { action, printJson, printLines } from "../util.js";

export function register(program: Command): void {
  program
    .command("stamp")
    .description("the run's time stamp and date stamp (the workflows' init-data job)")
    .option("--date-time-stamp <TS>", "use this UTC stamp (YYYYMMDDhhmmss); empty or absent: now")
    .option("--json", 'print {"timeStamp":…,"dateStamp":…}')
    .option("--github", "also append time_stamp and date_stamp to $GITHUB_OUTPUT")
    .addHelpText(
      "after",
      "\nExamples:\n  cloud-images stamp\n  cloud-images stamp --date-time-stamp 20260220143000 --json",
    )
    .action(
      action((opts: { dateTimeStamp?: string; json?: boolean; github?: boolean }) => {
        const stamps = opts.dateTimeStamp ? parseTimeStamp(opts.dateTimeStamp) : stampsFor(new Date());
        // The step outputs keep the seed's names (the workflows read steps.stamp.outputs.time_stamp).
        const outputs = { time_stamp: stamps.timeStamp, date_stamp: stamps.dateStamp };
        if (opts.github) appendGithubOutputs(outputs);
        if (opts.json) printJson(stamps);
        else printLines(Object.entries(outputs).map(([k, v]) => `${k}=${v}`));
        return 0;
      }),
    );
}
