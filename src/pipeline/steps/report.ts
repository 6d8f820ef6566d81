/** report: the job summary (into $GITHUB_STEP_SUMMARY when set) and, with --notify, Mattermost. */
import { packageDiffForLeg, reportLeg } from "../../notify/report.js";
import type { Step } from "../context.js";
import { manifestPathOf } from "../resume.js";

export const report: Step = {
  name: "report",

  async run(ctx) {
    const { options, state } = ctx;
    const manifestPath = manifestPathOf(state, ctx.paths);
    const packageDiff =
      options.previousPackages && state.packagesPath
        ? await packageDiffForLeg(ctx.manifest, manifestPath, options.previousPackages, state.packagesPath)
        : undefined;
    const webhookUrl = options.notify ? ctx.env.MATTERMOST_WEBHOOK_URL : undefined;
    const result = await reportLeg(ctx.manifest, {
      packageDiff,
      appendSummary: true,
      webhookUrl,
      env: ctx.env,
      onRetry: (line) => ctx.warn(line),
    });
    state.summary = result.summary;
    const outputs: Record<string, unknown> = {
      summary: result.appended ? "$GITHUB_STEP_SUMMARY" : "printed",
    };
    if (result.delivery) {
      const { ok, attempts, error, target } = result.delivery.result;
      state.notification = { delivered: ok, ...(error ? { error } : {}) };
      outputs.mattermost = { delivered: ok, attempts, target, ...(error ? { error } : {}) };
      // Loud, but a notification never fails a build.
      if (ok) ctx.log(`Mattermost message delivered to ${target}`);
      else ctx.warn(`Mattermost notification failed: ${error}`);
    }
    return { outputs };
  },

  describe(ctx) {
    return [
      "job summary → $GITHUB_STEP_SUMMARY (printed outside Actions)",
      ...(ctx.options.notify ? ["post the Mattermost message to $MATTERMOST_WEBHOOK_URL"] : []),
    ];
  },
};
