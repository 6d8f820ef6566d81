/**
 * report: the job summary (into $GITHUB_STEP_SUMMARY when set) and, with --notify, Mattermost. With
 * an index in the store, both say what changed since the leg's previous indexed build.
 */
import { packageDiffForLeg, reportLeg } from "../../notify/report.js";
import { openStore } from "../../publish/open-store.js";
import { changesSincePrevious, localPackages } from "../../release/previous.js";
import type { LegContext, Step } from "../context.js";
import { manifestPathOf } from "../resume.js";

/** The changes since the previous indexed build; a problem reading the index is a warning, never a failure. */
async function sincePrevious(ctx: LegContext) {
  const { options, state } = ctx;
  if (options.store === "none" || !state.imagePath) return undefined;
  const current = await localPackages({ sbom: state.sbomPath, packages: state.packagesPath });
  if (!current) return undefined;
  try {
    const store = await openStore(options.store, options.storeOptions);
    try {
      return await changesSincePrevious(store, ctx.manifest, current);
    } finally {
      await store.close();
    }
  } catch (e) {
    ctx.warn(`cannot compare with the previous build in the store's index: ${(e as Error).message}`);
    return undefined;
  }
}

export const report: Step = {
  name: "report",

  async run(ctx) {
    const { options, state } = ctx;
    const manifestPath = manifestPathOf(state, ctx.paths);
    // --previous-packages wins; else the previous build the store's index lists, when there is one.
    const changes = options.previousPackages ? undefined : await sincePrevious(ctx);
    const packageDiff =
      options.previousPackages && state.packagesPath
        ? await packageDiffForLeg(ctx.manifest, manifestPath, options.previousPackages, state.packagesPath)
        : changes?.packages;
    const webhookUrl = options.notify ? ctx.env.MATTERMOST_WEBHOOK_URL : undefined;
    const result = await reportLeg(ctx.manifest, {
      packageDiff,
      previous: changes ? { ...changes.previous, currentSize: changes.imageSize } : undefined,
      appendSummary: true,
      webhookUrl,
      env: ctx.env,
      onRetry: (line) => ctx.warn(line),
    });
    state.summary = result.summary;
    const outputs: Record<string, unknown> = {
      summary: result.appended ? "$GITHUB_STEP_SUMMARY" : "printed",
      ...(changes ? { previousBuild: changes.previous.timeStamp } : {}),
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
