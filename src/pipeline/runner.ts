/**
 * Runs one build leg: prepare → build → locate → checksum → verify → publish → release → report,
 * recording each step in the leg manifest (NAME.manifest.json beside the image). `from` resumes from a
 * step, reusing the recorded outputs of the earlier ones after checking the image still matches them;
 * `to` stops after a step; `dryRun` prints the commands and keys without running anything.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { type Leg, parseVariant } from "../catalog/catalog.js";
import { requireLeg } from "../catalog/validate.js";
import { checkTimerMs } from "../durations.js";
import { CloudImagesError, InterruptedError, StepFailedError, UsageError } from "../errors.js";
import { readInputFile, writeFileAtomic } from "../files.js";
import { type LegManifest, STEP_NAMES, type StepName, type StepRecord } from "../manifest/manifest.js";
import { validateWebhookUrl } from "../notify/mattermost.js";
import { setupPolicy } from "../policy/setup.js";
import { acquireLock } from "../process/lock.js";
import { FileStore } from "../publish/file-store.js";
import { openStore } from "../publish/open-store.js";
import { releaseKeysFromEnv } from "../release/keys.js";
import { requireRelease, resolveLeg } from "../resolve/resolve.js";
import { parseTimeStamp, stampsFor } from "../resolve/stamp.js";
import { lockDir } from "../state.js";
import type { LegContext, LegState, RunLegOptions, Step } from "./context.js";
import { detectRunnerOs, exists, packerVarsFor } from "./host.js";
import { type LegPaths, legPaths } from "./leg-paths.js";
import { packerBuildArgs } from "./packer.js";
import {
  checkImageUnchanged,
  clearOutputs,
  loadPrevious,
  manifestPathOf,
  type PreviousRun,
  requireEarlierSteps,
  resumedManifest,
  stateFrom,
} from "./resume.js";
import { build } from "./steps/build.js";
import { checksum } from "./steps/checksum.js";
import { locate } from "./steps/locate.js";
import { prepare, resolveForRun } from "./steps/prepare.js";
import { publish } from "./steps/publish.js";
import { release } from "./steps/release.js";
import { report } from "./steps/report.js";
import { test } from "./steps/test.js";
import { verify } from "./steps/verify.js";

export const STEPS: readonly Step[] = [
  prepare,
  build,
  locate,
  checksum,
  verify,
  test,
  publish,
  release,
  report,
];

export interface LegRunResult {
  readonly manifest: LegManifest;
  /** Where the manifest was written (none for dry runs). */
  readonly manifestPath?: string;
  readonly state: LegState;
  /** The step that failed, if one did. */
  readonly failedStep?: StepName;
  readonly error?: string;
  /** Lines describing what a dry run would do. */
  readonly plan?: readonly string[];
  /** Set when a signal stopped the run (recorded in the manifest's `interrupted`). */
  readonly interrupted?: InterruptedError;
}

const index = (name: StepName) => STEP_NAMES.indexOf(name);

export async function runLeg(given: RunLegOptions): Promise<LegRunResult> {
  const leg = requireLeg(given.type, given.variant, given.arch);
  // Recorded paths must stay valid from any working directory (`--from` later).
  const options = { ...given, templatesDir: resolve(given.templatesDir) };
  const env = options.env ?? process.env;
  await validateOptions(options, env);
  const paths = legPaths(options.templatesDir, leg, env);
  // Building needs prepare's Packer arguments, so --from build runs prepare too.
  const from = options.from === undefined || options.from === "build" ? "prepare" : options.from;
  if (options.dryRun) return dryRun(options, leg, paths, from, env);
  // One run per output directory: a second one is refused before it reads or writes anything.
  const lock = await acquireLock(paths.outputDir, {
    dir: lockDir(env),
    purpose: `cloud-images run ${leg.type} ${leg.variant} ${leg.arch}`,
  });
  try {
    return await runSteps(await contextFor(options, leg, paths, from, env), from);
  } finally {
    await lock.release();
  }
}

async function contextFor(
  options: RunLegOptions,
  leg: Leg,
  paths: LegPaths,
  from: StepName,
  env: NodeJS.ProcessEnv,
): Promise<LegContext> {
  let previous: PreviousRun | undefined;
  if (index(from) > index("build")) {
    previous = await loadPrevious(options, leg, paths);
    requireEarlierSteps(previous, from);
  }
  const stamps = previous
    ? { timeStamp: previous.manifest.timeStamp, dateStamp: previous.manifest.dateStamp }
    : options.timestamp
      ? parseTimeStamp(options.timestamp)
      : stampsFor(new Date());
  const manifest: LegManifest = previous
    ? resumedManifest(previous.manifest, from)
    : {
        schemaVersion: 1,
        leg: { type: leg.type, variant: leg.variant, arch: leg.arch },
        resolved: undefined as unknown as LegManifest["resolved"],
        timeStamp: stamps.timeStamp,
        dateStamp: stamps.dateStamp,
        templatesDir: options.templatesDir,
        tools: { node: process.version, "cloud-images": pkg.version },
        tests: { offline: "n/a" },
        steps: [],
      };
  if (previous && options.release !== undefined && options.release !== manifest.resolved.release) {
    // Resuming with corrected expectations (e.g. a verify that failed on the release): new names, same stamp.
    const release = requireRelease(parseVariant(leg.variant)!.version, options.release);
    manifest.resolved = resolveLeg(leg, release, manifest.timeStamp);
  }
  const log = options.log ?? (() => {});
  return {
    options,
    leg,
    ...stamps,
    paths,
    state: previous ? stateFrom(manifest) : {},
    manifest,
    env,
    signal: options.signal,
    log,
    warn: (line) => log(`warning: ${line}`),
    progress: (p) => options.onProgress?.(p),
  };
}

async function dryRun(
  options: RunLegOptions,
  leg: Leg,
  paths: LegPaths,
  from: StepName,
  env: NodeJS.ProcessEnv,
): Promise<LegRunResult> {
  const ctx = await contextFor(options, leg, paths, from, env);
  if (index(from) <= index("build")) await resolveForRun(ctx);
  if (!ctx.state.packerArgs) {
    ctx.state.packerArgs = packerBuildArgs(
      ctx.state.resolved!,
      packerVarsFor(await detectRunnerOs(), leg.arch),
    );
  }
  const to = options.to ?? "report";
  const plan = STEPS.filter((s) => index(s.name) >= index(from) && index(s.name) <= index(to)).flatMap((s) =>
    s.describe(ctx).map((line) => `${s.name}: ${line}`),
  );
  return { manifest: ctx.manifest, state: ctx.state, plan };
}

async function runSteps(ctx: LegContext, from: StepName): Promise<LegRunResult> {
  const { manifest, log } = ctx;
  const to = ctx.options.to ?? "report";
  let failedStep: StepName | undefined;
  let error: string | undefined;
  let manifestPath: string | undefined;
  let interrupted: InterruptedError | undefined;
  let current: StepName = from;
  const save = async () => {
    manifestPath = await saveManifest(ctx, manifestPath);
  };
  const stopFor = async (step: StepName, reason: unknown, started?: Date) => {
    interrupted = reason instanceof InterruptedError ? reason : new InterruptedError("SIGTERM");
    if (started) {
      clearOutputs(manifest, ctx.state, step);
      manifest.steps.push(stepRecord(step, started, "interrupted", undefined, interrupted.message));
    }
    manifest.interrupted = { step, signal: interrupted.signal, at: interrupted.at.toISOString() };
    log(`==> ${step} interrupted by ${interrupted.signal}`);
    await save();
  };

  try {
    if (index(from) > index("build")) await checkImageUnchanged(ctx, from);
  } catch (e) {
    if (ctx.signal?.aborted) {
      await stopFor(from, ctx.signal.reason);
      return resultOf(ctx, manifestPath, undefined, undefined, interrupted);
    }
    throw e;
  }
  for (const step of STEPS) {
    const i = index(step.name);
    if (i < index(from) || i > index(to)) continue;
    if (ctx.signal?.aborted) {
      // Arrived while the previous step finished its work: that step is where the run stopped.
      await stopFor(current, ctx.signal.reason);
      break;
    }
    current = step.name;
    const started = new Date();
    // After a failure only the report still runs, and only once there is an image to report on.
    if (failedStep && (step.name !== "report" || !ctx.state.imagePath)) {
      manifest.steps.push(
        stepRecord(step.name, started, "skipped", { reason: `${failedStep} failed` }, undefined),
      );
      continue;
    }
    log(`==> ${step.name}`);
    clearOutputs(manifest, ctx.state, step.name);
    let record: StepRecord;
    try {
      const result = await step.run(ctx);
      record = stepRecord(
        step.name,
        started,
        result.failed ? "failed" : (result.status ?? "ok"),
        result.outputs,
        result.failed,
      );
      if (result.failed) {
        failedStep = step.name;
        error = `${step.name}: ${result.failed}`;
      }
    } catch (e) {
      if (ctx.signal?.aborted) {
        await stopFor(step.name, ctx.signal.reason, started);
        break;
      }
      if (!(e instanceof CloudImagesError)) throw e;
      clearOutputs(manifest, ctx.state, step.name);
      const message = e instanceof StepFailedError ? e.message.slice(step.name.length + 2) : e.message;
      record = stepRecord(step.name, started, "failed", undefined, message);
      failedStep ??= step.name;
      error ??= `${step.name}: ${message}`;
    }
    manifest.steps.push(record);
    await save();
  }
  return resultOf(ctx, manifestPath, failedStep, error, interrupted);
}

function resultOf(
  ctx: LegContext,
  manifestPath: string | undefined,
  failedStep: StepName | undefined,
  error: string | undefined,
  interrupted: InterruptedError | undefined,
): LegRunResult {
  return {
    manifest: ctx.manifest,
    manifestPath,
    state: ctx.state,
    ...(failedStep ? { failedStep, error } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
}

async function validateOptions(options: RunLegOptions, env: NodeJS.ProcessEnv): Promise<void> {
  for (const [flag, step] of [
    ["--from", options.from],
    ["--to", options.to],
  ] as const) {
    if (step !== undefined && !STEP_NAMES.includes(step)) {
      throw new UsageError(`invalid ${flag} step "${step}" (valid: ${STEP_NAMES.join(", ")})`);
    }
  }
  if (options.from && options.to && index(options.from) > index(options.to)) {
    throw new UsageError(`--from ${options.from} comes after --to ${options.to}`);
  }
  if (options.timestamp !== undefined) parseTimeStamp(options.timestamp);
  if (options.buildTimeoutMs !== undefined) checkTimerMs(options.buildTimeoutMs, "the build timeout");
  if (options.policyFile !== undefined || options.waiversFile !== undefined) {
    // A bad policy or waiver file stops the leg now, not after the build.
    await setupPolicy({ leg: options, policyFile: options.policyFile, waiversFile: options.waiversFile });
  }
  const templates = await stat(options.templatesDir).catch(() => undefined);
  if (!templates) throw new UsageError(`templates directory ${options.templatesDir} does not exist`);
  if (!templates.isDirectory()) {
    throw new UsageError(
      `--templates ${options.templatesDir} is not a directory (give the templates checkout)`,
    );
  }
  // Read now, not after an hour of building and publishing.
  if (options.previousPackages !== undefined) {
    await readInputFile(options.previousPackages, { what: "--previous-packages" });
  }
  if (options.store !== "none") {
    // Parses and checks the URL and options now, not after an hour of building.
    const store = await openStore(options.store, options.storeOptions);
    // A local store's folder is checked (a file, a read-only place) now too, without making it; an
    // S3 bucket is reached only by the publish step.
    const publishes =
      index(options.from ?? "prepare") <= index("publish") &&
      index(options.to ?? "report") >= index("publish");
    try {
      if (publishes && !options.dryRun && store instanceof FileStore) await store.checkWritable();
    } finally {
      await store.close();
    }
    // So do the release's keys (a wrong passphrase is found before the build, not after it).
    if (index(options.to ?? "report") >= index("release")) await releaseKeysFromEnv(env);
  }
  if (options.notify) {
    const url = env.MATTERMOST_WEBHOOK_URL;
    if (!url) throw new UsageError("--notify needs MATTERMOST_WEBHOOK_URL in the environment");
    validateWebhookUrl(url);
  }
}

function stepRecord(
  name: StepName,
  started: Date,
  status: StepRecord["status"],
  outputs: Record<string, unknown> | undefined,
  error: string | undefined,
): StepRecord {
  const ended = new Date();
  return {
    name,
    status,
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    durationMs: ended.getTime() - started.getTime(),
    ...(outputs ? { outputs } : {}),
    ...(error ? { error } : {}),
  };
}

/** Before locate the manifest sits in the leg's state directory; then it moves beside the image. */
async function saveManifest(ctx: LegContext, previousPath: string | undefined): Promise<string | undefined> {
  if (!ctx.manifest.resolved) return undefined;
  const early = ctx.paths.earlyManifest;
  const path = manifestPathOf(ctx.state, ctx.paths);
  if (path === early) await mkdir(ctx.paths.stateDir, { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(ctx.manifest, null, 2)}\n`);
  if (path !== early && (previousPath === early || (await exists(early)))) await rm(early, { force: true });
  return path;
}
