/**
 * `run --from STEP`: the manifest of the latest run of this leg, checked to have got past every step
 * before STEP, turned back into the state those steps produced. What the steps from STEP on recorded is
 * dropped: the new manifest tells only this run's truth.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Leg } from "../catalog/catalog.js";
import { StepFailedError, UsageError } from "../errors.js";
import { readInputFile, sha256File } from "../files.js";
import { type LegManifest, STEP_NAMES, type StepName } from "../manifest/manifest.js";
import { parseLegManifest } from "../manifest/read.js";
import type { LegContext, LegState, RunLegOptions } from "./context.js";
import { sidecar } from "./files.js";
import { expandMask } from "./glob.js";
import type { LegPaths } from "./leg-paths.js";

const index = (name: StepName) => STEP_NAMES.indexOf(name);

export interface PreviousRun {
  readonly manifest: LegManifest;
  readonly path: string;
}

/**
 * The manifest of the latest run of this leg that has an image: beside it, or anywhere in the output
 * directory (the image may be gone; the newest wins); else the one in the leg's state directory (a run
 * that never got an image).
 */
export async function loadPrevious(options: RunLegOptions, leg: Leg, paths: LegPaths): Promise<PreviousRun> {
  const dir = options.templatesDir;
  const inOutput = (await expandMask(dir, `${paths.outputDirName}/*.manifest.json`)).map((m) => join(dir, m));
  const path = (await newestFile(inOutput)) ?? (await newestFile([paths.earlyManifest]));
  if (!path) {
    throw new UsageError(
      `--from ${options.from} needs the manifest of an earlier run of this leg (none in ${paths.outputDir} or ${paths.stateDir}): run without --from`,
    );
  }
  const text = (await readInputFile(path, { what: "the leg manifest" })).toString("utf8");
  const m = parseLegManifest(text, `the leg manifest ${path}`);
  if (m.leg.type !== leg.type || m.leg.variant !== leg.variant || m.leg.arch !== leg.arch) {
    throw new UsageError(`${path} records leg ${m.leg.type} ${m.leg.variant} ${m.leg.arch}, not this one`);
  }
  if (options.timestamp && options.timestamp !== m.timeStamp) {
    throw new UsageError(`--timestamp ${options.timestamp} differs from the recorded run's ${m.timeStamp}`);
  }
  return { manifest: m, path };
}

async function newestFile(paths: readonly string[]): Promise<string | undefined> {
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const path of paths) {
    const mtimeMs = await stat(path).then(
      (s) => (s.isFile() ? s.mtimeMs : undefined),
      () => undefined,
    );
    if (mtimeMs !== undefined && (!newest || mtimeMs > newest.mtimeMs)) newest = { path, mtimeMs };
  }
  return newest?.path;
}

/**
 * Every step before `from` must have succeeded in the recorded run (the report needs only an image);
 * otherwise the message names the first that did not and where to resume instead.
 */
export function requireEarlierSteps(previous: PreviousRun, from: StepName): void {
  const needed =
    from === "report" ? (["prepare", "build", "locate"] as const) : STEP_NAMES.slice(0, index(from));
  for (const name of needed) {
    const record = previous.manifest.steps.find((s) => s.name === name);
    if (record && ["ok", "reused", "skipped"].includes(record.status)) continue;
    const what = !record
      ? "did not run"
      : record.status === "failed"
        ? `failed${record.error ? ` (${record.error})` : ""}`
        : `was ${record.status}`;
    const resume =
      index(name) <= index("build") ? "run the leg again without --from" : `resume with --from ${name}`;
    throw new UsageError(
      `--from ${from} needs a recorded run that got past ${name}, but in ${previous.path} ${name} ${what}: ${resume}`,
    );
  }
}

/** The recorded manifest with the steps before `from` marked reused and everything later dropped. */
export function resumedManifest(previous: LegManifest, from: StepName): LegManifest {
  const manifest: LegManifest = {
    ...previous,
    steps: previous.steps
      .filter((s) => index(s.name) < index(from))
      .map((s) => ({ ...s, status: "reused" as const })),
  };
  delete manifest.interrupted;
  for (const step of STEP_NAMES) if (index(step) >= index(from)) clearOutputs(manifest, {}, step);
  return manifest;
}

/**
 * Forgets what `step` put into the manifest and the state: before it runs again, and when it fails,
 * so nothing of an earlier attempt passes for this run's result.
 */
export function clearOutputs(manifest: LegManifest, state: LegState, step: StepName): void {
  switch (step) {
    case "locate":
      delete manifest.image;
      delete state.imagePath;
      delete state.imageSize;
      break;
    case "checksum":
      if (manifest.image) delete manifest.image.sha256;
      delete state.sha256;
      delete state.checksumPath;
      delete state.imageMtimeMs;
      break;
    case "verify":
      delete manifest.verdict;
      manifest.tests = { ...manifest.tests, offline: "n/a" };
      delete state.verdict;
      delete state.packagesPath;
      delete state.sbomPath;
      break;
    case "publish":
      delete manifest.published;
      delete state.published;
      break;
    default:
      break;
  }
}

/** The state the recorded steps produced, for the steps that run now. */
export function stateFrom(m: LegManifest): LegState {
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
export async function checkImageUnchanged(ctx: LegContext, from: StepName): Promise<void> {
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
    const sha = await sha256File(state.imagePath, undefined, ctx.signal);
    if (sha !== state.sha256) {
      throw new StepFailedError(
        from,
        `${state.imagePath} changed since the recorded run (SHA-256 differs): re-run with --from checksum`,
      );
    }
  }
}

/** Where this run's manifest goes: beside the image once there is one, else the leg's state directory. */
export function manifestPathOf(state: LegState, paths: LegPaths): string {
  return state.imagePath ? sidecar.manifest(state.imagePath) : paths.earlyManifest;
}
