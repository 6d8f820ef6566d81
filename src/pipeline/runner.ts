/**
 * Runs one build leg: prepare → build → locate → checksum → verify → publish → report, recording each
 * step in the leg manifest (NAME.manifest.json beside the image). `from` resumes from a step, reusing
 * the recorded outputs of the earlier ones after checking the image still matches them; `to` stops
 * after a step; `dryRun` prints the commands and keys without running anything.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { type Leg, parseVariant } from "../catalog/catalog.js";
import { requireLeg } from "../catalog/validate.js";
import { CloudImagesError, StepFailedError, UsageError } from "../errors.js";
import { sha256File, writeFileAtomic } from "../files.js";
import {
  type LegManifest,
  legManifestSchema,
  STEP_NAMES,
  type StepName,
  type StepRecord,
} from "../manifest/manifest.js";
import { validateWebhookUrl } from "../notify/mattermost.js";
import { openStore } from "../publish/open-store.js";
import { requireRelease, resolveLeg } from "../resolve/resolve.js";
import { parseTimeStamp, stampsFor } from "../resolve/stamp.js";
import type { LegContext, LegState, RunLegOptions, Step } from "./context.js";
import { sidecar } from "./files.js";
import { expandMask } from "./glob.js";
import { detectRunnerOs, exists, packerVarsFor } from "./host.js";
import { outputDirOf, packerBuildArgs } from "./packer.js";
import { build } from "./steps/build.js";
import { checksum } from "./steps/checksum.js";
import { locate } from "./steps/locate.js";
import { prepare, resolveForRun } from "./steps/prepare.js";
import { publish } from "./steps/publish.js";
import { report } from "./steps/report.js";
import { verify } from "./steps/verify.js";

export const STEPS: readonly Step[] = [prepare, build, locate, checksum, verify, publish, report];

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
}

const index = (name: StepName) => STEP_NAMES.indexOf(name);

export async function runLeg(given: RunLegOptions): Promise<LegRunResult> {
  const leg = requireLeg(given.type, given.variant, given.arch);
  // Recorded paths must stay valid from any working directory (`--from` later).
  const options = { ...given, templatesDir: resolve(given.templatesDir) };
  const env = options.env ?? process.env;
  await validateOptions(options, env);
  const log = options.log ?? (() => {});
  // Building needs prepare's Packer arguments, so --from build runs prepare too.
  const from = options.from === undefined || options.from === "build" ? "prepare" : options.from;
  const to = options.to ?? "report";

  const previous = index(from) > index("build") ? await loadPrevious(options, leg) : undefined;
  const stamps = previous
    ? { timeStamp: previous.timeStamp, dateStamp: previous.dateStamp }
    : options.timestamp
      ? parseTimeStamp(options.timestamp)
      : stampsFor(new Date());
  const manifest: LegManifest = previous
    ? {
        ...previous,
        steps: previous.steps
          .filter((s) => index(s.name) < index(from))
          .map((s) => ({ ...s, status: "reused" as const })),
      }
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
  if (previous && options.release !== undefined && options.release !== previous.resolved.release) {
    // Resuming with corrected expectations (e.g. a verify that failed on the release): new names, same stamp.
    const release = requireRelease(parseVariant(leg.variant)!.version, options.release);
    manifest.resolved = resolveLeg(leg, release, previous.timeStamp);
  }
  const ctx: LegContext = {
    options,
    leg,
    ...stamps,
    state: previous ? stateFrom(manifest) : {},
    manifest,
    env,
    signal: options.signal,
    log,
    warn: (line) => log(`warning: ${line}`),
    progress: (p) => options.onProgress?.(p),
  };

  if (options.dryRun) {
    if (!previous) await resolveForRun(ctx);
    if (!ctx.state.packerArgs) {
      ctx.state.packerArgs = packerBuildArgs(
        ctx.state.resolved!,
        packerVarsFor(await detectRunnerOs(), leg.arch),
      );
    }
    const plan = STEPS.filter((s) => index(s.name) >= index(from) && index(s.name) <= index(to)).flatMap(
      (s) => s.describe(ctx).map((line) => `${s.name}: ${line}`),
    );
    return { manifest, state: ctx.state, plan };
  }

  if (previous) await checkImageUnchanged(ctx, from);
  let failedStep: StepName | undefined;
  let error: string | undefined;
  let manifestPath: string | undefined;
  for (const step of STEPS) {
    const i = index(step.name);
    if (i < index(from) || i > index(to)) continue;
    const started = new Date();
    // After a failure only the report still runs, and only once there is an image to report on.
    if (failedStep && (step.name !== "report" || !ctx.state.imagePath)) {
      manifest.steps.push(
        stepRecord(step.name, started, "skipped", { reason: `${failedStep} failed` }, undefined),
      );
      continue;
    }
    log(`==> ${step.name}`);
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
      if (!(e instanceof CloudImagesError)) throw e;
      const message = e instanceof StepFailedError ? e.message.slice(step.name.length + 2) : e.message;
      record = stepRecord(step.name, started, "failed", undefined, message);
      failedStep ??= step.name;
      error ??= `${step.name}: ${message}`;
    }
    manifest.steps.push(record);
    manifestPath = await saveManifest(ctx, manifestPath);
  }
  return { manifest, manifestPath, state: ctx.state, ...(failedStep ? { failedStep, error } : {}) };
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
  if (!(await exists(options.templatesDir))) {
    throw new UsageError(`templates directory ${options.templatesDir} does not exist`);
  }
  if (options.store !== "none") {
    // Parses and checks the URL and options now, not after an hour of building.
    const store = await openStore(options.store, options.storeOptions);
    await store.close();
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

/** Before locate the manifest sits beside the output directory; then it moves beside the image. */
async function saveManifest(ctx: LegContext, previousPath: string | undefined): Promise<string | undefined> {
  if (!ctx.manifest.resolved) return undefined;
  const early = earlyManifestPath(ctx.options.templatesDir, ctx.manifest);
  const path = ctx.state.imagePath ? sidecar.manifest(ctx.state.imagePath) : early;
  await writeFileAtomic(path, `${JSON.stringify(ctx.manifest, null, 2)}\n`);
  if (path !== early && (previousPath === early || (await exists(early)))) await rm(early, { force: true });
  return path;
}

function earlyManifestPath(templatesDir: string, manifest: LegManifest): string {
  return join(templatesDir, `${outputDirOf(manifest.resolved)}.manifest.json`);
}

/** The manifest of an earlier run of this leg: beside its image, or beside the output directory. */
async function loadPrevious(options: RunLegOptions, leg: Leg): Promise<LegManifest> {
  // The mask does not depend on the release or time stamp.
  const { outputMask } = resolveLeg(
    leg,
    leg.variant.startsWith("10-kitten") ? "10" : "0.0",
    "19700101000000",
  );
  const outputDir = outputMask.split("/")[0]!;
  const matches = await expandMask(options.templatesDir, outputMask);
  // Beside the image; else any manifest left in the output directory (the image may be gone);
  // else the one written before an image existed.
  const candidates = [
    ...matches.map((m) => sidecar.manifest(join(options.templatesDir, m))),
    ...(await expandMask(options.templatesDir, `${outputDir}/*.manifest.json`)).map((m) =>
      join(options.templatesDir, m),
    ),
    join(options.templatesDir, `${outputDir}.manifest.json`),
  ];
  for (const path of candidates) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue;
    }
    const parsed = legManifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new UsageError(`${path} is not a leg manifest: ${parsed.error.issues[0]?.message}`);
    const m = parsed.data;
    if (m.leg.type !== leg.type || m.leg.variant !== leg.variant || m.leg.arch !== leg.arch) {
      throw new UsageError(`${path} records leg ${m.leg.type} ${m.leg.variant} ${m.leg.arch}, not this one`);
    }
    if (options.timestamp && options.timestamp !== m.timeStamp) {
      throw new UsageError(`--timestamp ${options.timestamp} differs from the recorded run's ${m.timeStamp}`);
    }
    return m;
  }
  throw new UsageError(
    `--from ${options.from} needs the manifest of an earlier run of this leg in ${options.templatesDir} (none found for ${outputMask})`,
  );
}

function stateFrom(m: LegManifest): LegState {
  const outputs = (name: StepName) =>
    m.steps.find((s) => s.name === name && s.status !== "failed")?.outputs ?? {};
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const state: LegState = { resolved: m.resolved as unknown as LegState["resolved"] };
  if (m.image) {
    state.imagePath = m.image.path;
    state.imageSize = m.image.size;
    if (m.image.sha256) state.sha256 = m.image.sha256;
  }
  const checksumFile = str(outputs("checksum").file);
  if (checksumFile) state.checksumPath = checksumFile;
  const mtimeMs = outputs("checksum").mtimeMs;
  if (typeof mtimeMs === "number") state.imageMtimeMs = mtimeMs;
  if (m.verdict) state.verdict = m.verdict;
  const packages = str(outputs("verify").packagesFile);
  if (packages) state.packagesPath = packages;
  const sbom = str(outputs("verify").sbomFile);
  if (sbom) state.sbomPath = sbom;
  const packerLog = str(outputs("locate").packerLog);
  if (packerLog) state.packerLog = packerLog;
  return state;
}

/** Recorded outputs are reused only if the image is still the one they describe (size and SHA-256). */
async function checkImageUnchanged(ctx: LegContext, from: StepName): Promise<void> {
  const { state } = ctx;
  if (index(from) <= index("locate") || !state.imagePath) return;
  let size: number;
  try {
    size = (await stat(state.imagePath)).size;
  } catch {
    throw new StepFailedError(from, `the recorded image ${state.imagePath} is gone: re-run the leg`);
  }
  if (size !== state.imageSize) {
    throw new StepFailedError(
      from,
      `${state.imagePath} changed since the recorded run (size ${size}, recorded ${state.imageSize}): re-run with --from locate`,
    );
  }
  if (index(from) > index("checksum")) {
    if (!state.sha256)
      throw new StepFailedError(from, "the recorded run has no checksum: re-run with --from checksum");
    const sha = await sha256File(state.imagePath);
    if (sha !== state.sha256) {
      throw new StepFailedError(
        from,
        `${state.imagePath} changed since the recorded run (SHA-256 differs): re-run with --from checksum`,
      );
    }
  }
}
