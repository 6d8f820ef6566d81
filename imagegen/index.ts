/**
 * The project's test-image builder: realistic AlmaLinux-like disk images (GPT layout, XFS/ext4 root,
 * release files, a real rpm database) made with Debian tools, without mounting anything, cached by spec.
 */
import {
  accessSync,
  constants,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stageBootTree, stageEspTree } from "./boot.js";
import { uuidFrom, volumeIdFrom } from "./bytes.js";
import { cached, cacheRoot, MARKER, pidAlive, pruneStale } from "./cache.js";
import { convert, FILE_NAMES } from "./convert.js";
import { DEFECTS, type DefectDef, leaveDirty } from "./defects.js";
import {
  assembleDisk,
  builtPartitions,
  copySparse,
  type DiskIds,
  makeFilesystems,
  SIDE_FILES,
  type SideFiles,
} from "./disk.js";
import { requireRoot, requireTools } from "./exec.js";
import { writeFiller } from "./filler.js";
import { labelTree, unlabelTree } from "./labels.js";
import { withMounted } from "./mount.js";
import { plannedPackages } from "./packages.js";
import { kernelVersion, releasePackageName } from "./release.js";
import { buildRpms, installRpms, queryDb } from "./rpmdb.js";
import {
  type BuiltImage,
  builderSourceHash,
  cacheKey,
  type ImageFormat,
  type ImageSpec,
  type NormalizedSpec,
  normalizeSpec,
  parseSize,
} from "./spec.js";
import { linkRpmdb, stageSkeleton, type TreeIds, writeExtraFiles } from "./tree.js";

export { cacheRoot } from "./cache.js";
export { BENCHMARK_IMAGE, DEEP_BENCHMARK_IMAGE } from "./presets.js";
export type { BuiltImage, BuiltPartition, ImageFormat, ImageSpec, NormalizedSpec } from "./spec.js";
export { normalizeSpec } from "./spec.js";

export interface BuildOptions {
  /** Progress lines (step names and timings); the builder itself never prints. */
  log?: (line: string) => void;
}

const TOOLS = [
  "rpmbuild",
  "rpm",
  "db5.3_load",
  "sqlite3",
  "sgdisk",
  "mkfs.fat",
  "mcopy",
  "mkfs.xfs",
  "xfs_io",
  "xfs_db",
  "mkfs.ext4",
  "e2fsck",
  "qemu-img",
  "sort",
  "mount",
  "umount",
  "setfattr",
  "debugfs",
  "find",
];

const inFlight = new Map<string, Promise<BuiltImage>>();
const stagesInFlight = new Map<string, Promise<Stage>>();

/** The cache key (directory name under the cache root) of a spec. */
export function imageKey(spec: ImageSpec): string {
  const normalized = normalizeSpec(spec);
  return cacheKey(normalized, { packages: plannedPackages(normalized).map((p) => p.name) });
}

/**
 * The spec of an image's filesystems: everything but the output formats and the defects, which are
 * applied to copies of these filesystems. Clean and defective images of one spec share it.
 */
function stageSpec(spec: NormalizedSpec): NormalizedSpec {
  return { ...spec, formats: [], defects: [] };
}

function stageKey(spec: NormalizedSpec): string {
  const s = stageSpec(spec);
  return cacheKey(s, { stage: 1, packages: plannedPackages(s).map((p) => p.name) });
}

/** Builds (or finds in the cache) the image described by `spec`. */
export function buildImage(spec: ImageSpec, options: BuildOptions = {}): Promise<BuiltImage> {
  const normalized = normalizeSpec(spec);
  const key = imageKey(spec);
  let p = inFlight.get(key);
  if (!p) {
    const log = options.log ?? (() => {});
    p = cached(key, async (tmp) => {
      const stage = await buildStage(normalized, log);
      await assemble(normalized, stage, tmp, log);
      pruneStale(cacheRoot(), builderSourceHash());
    }).then((dir) => loadBuilt(dir));
    inFlight.set(key, p);
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

/** What is stored in built.json: BuiltImage with paths relative to its directory. */
type StoredImage = Omit<BuiltImage, "dir" | "paths" | "rpmdbDir"> & {
  files: Partial<Record<ImageFormat, string>>;
};

function loadBuilt(dir: string): BuiltImage {
  const stored = JSON.parse(readFileSync(join(dir, MARKER), "utf8"), reviver) as StoredImage;
  const { files, ...rest } = stored;
  const paths: Partial<Record<ImageFormat, string>> = {};
  for (const [f, name] of Object.entries(files)) paths[f as ImageFormat] = join(dir, name);
  return { ...rest, dir, paths, rpmdbDir: join(dir, "rpmdb") };
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** A built set of filesystems (the stage cache entry): side files, rpmdb copy, and what was built. */
interface Stage {
  readonly dir: string;
  readonly ids: TreeIds;
  readonly diskIds: Omit<DiskIds, "partGuid"> & { partGuids: Record<number, string> };
  readonly files: SideFiles;
  readonly expected: BuiltImage["expected"];
  readonly stepSeconds: Record<string, number>;
  readonly buildSeconds: number;
}

type StoredStage = Omit<Stage, "dir" | "files"> & { files: SideFiles; builderSource: string };

function stepTimer(log: (s: string) => void) {
  const steps: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    const r = await fn();
    steps[name] = (Date.now() - t) / 1000;
    log(`imagegen: ${name} ${steps[name]!.toFixed(1)} s`);
    return r;
  };
  return { steps, step };
}

function buildStage(spec: NormalizedSpec, log: (s: string) => void): Promise<Stage> {
  const key = stageKey(spec);
  let p = stagesInFlight.get(key);
  if (!p) {
    p = cached(key, (tmp) => makeStage(stageSpec(spec), key, tmp, log)).then((dir) => {
      const stored = JSON.parse(readFileSync(join(dir, MARKER), "utf8")) as StoredStage;
      const files: SideFiles = { root: join(dir, stored.files.root) };
      if (stored.files.boot) files.boot = join(dir, stored.files.boot);
      if (stored.files.esp) files.esp = join(dir, stored.files.esp);
      return { ...stored, dir, files };
    });
    stagesInFlight.set(key, p);
    p.catch(() => stagesInFlight.delete(key));
  }
  return p;
}

/** Stage one: the trees, the packages, the filesystems (labelled), as side files in `out`. */
async function makeStage(
  spec: NormalizedSpec,
  key: string,
  out: string,
  log: (s: string) => void,
): Promise<void> {
  requireRoot();
  requireTools(TOOLS);
  const started = Date.now();
  const { steps, step } = stepTimer(log);
  const diskBytes = parseSize(spec.diskSize);
  const ids: TreeIds = {
    rootUuid: uuidFrom(`${key}/root`),
    bootUuid: uuidFrom(`${key}/boot`),
    espVolumeId: volumeIdFrom(`${key}/esp`),
    kernel: kernelVersion(spec.el, spec.arch, spec.kernel),
    machineId: uuidFrom(`${key}/machine-id`).replace(/-/g, ""),
  };
  const partGuids: Record<number, string> = {};
  for (let n = 1; n <= 4; n++) partGuids[n] = uuidFrom(`${key}/part${n}`);
  const diskIds = {
    diskGuid: uuidFrom(`${key}/disk`),
    partGuids,
    rootUuid: ids.rootUuid,
    bootUuid: ids.bootUuid,
    espVolumeId: ids.espVolumeId,
  };
  const staging = stagingRoot(spec.fillerMiB);
  sweepDeadStaging(staging);
  const work = mkdtempSync(join(staging, `imagegen-${process.pid}-`));
  try {
    const root = join(work, "root");
    const boot = join(work, "boot");
    const esp = join(work, "esp");
    await step("tree", () => {
      stageSkeleton(root, spec, ids);
      stageBootTree(boot, spec, ids);
      stageEspTree(esp, spec.arch, ids);
    });
    if (spec.fillerMiB > 0 && !spec.fillerOwned)
      await step("filler", () => writeFiller(root, spec.fillerMiB));
    const rpms = await step("rpmbuild", () => buildRpms(spec, work, root));
    await step("rpm-install", () => installRpms(spec, root, rpms, work));
    linkRpmdb(root, spec);
    writeExtraFiles(root, spec.extraFiles);
    if (spec.layout === "bare") cpSync(boot, join(root, "boot"), { recursive: true });
    const backend = spec.el === "8" ? "bdb" : "sqlite";
    const dbDir = join(root, spec.rpmdbPath);
    const releasePackage = releasePackageName(spec.el);
    const facts = await step("oracle", () => queryDb(dbDir, backend, releasePackage, work));
    cpSync(dbDir, join(out, "rpmdb"), { recursive: true });
    const files = await step("filesystems", () =>
      makeFilesystems(
        spec,
        diskBytes,
        { root, boot, esp },
        { ...diskIds, partGuid: (n) => partGuids[n]! },
        out,
        work,
      ),
    );
    await step("labels", () => labelFilesystems(spec, files, work));
    const stored: StoredStage = {
      ids,
      diskIds,
      files: relativeFiles(files, out),
      expected: {
        packageNames: facts.packageNames,
        packagesNevra: facts.packagesNevra,
        releaseFileContent: readOrNull(join(root, "etc/almalinux-release")),
        osRelease: readOrNull(join(root, "etc/os-release")),
        releasePackageArch: facts.releasePackageArch,
        releasePackage,
        rpmdbPath: spec.rpmdbPath,
        rpmdbBackend: backend,
        kernel: ids.kernel,
      },
      stepSeconds: steps,
      buildSeconds: (Date.now() - started) / 1000,
      builderSource: builderSourceHash(),
    };
    writeFileSync(join(out, MARKER), `${JSON.stringify(stored, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function relativeFiles(files: SideFiles, dir: string): SideFiles {
  const rel = (p: string) => p.slice(dir.length + 1);
  const out: SideFiles = { root: rel(files.root) };
  if (files.boot) out.boot = rel(files.boot);
  if (files.esp) out.esp = rel(files.esp);
  return out;
}

/** SELinux labels on every file of the root and /boot filesystems, through loop mounts. */
async function labelFilesystems(spec: NormalizedSpec, files: SideFiles, scratch: string): Promise<void> {
  await withMounted(files.root, spec.rootfs, (dir) => labelTree(dir, scratch));
  if (files.boot) await withMounted(files.boot, spec.rootfs, (dir) => labelTree(dir, scratch, "/boot"));
}

/** Stage two: the defects applied to copies of the stage's filesystems, the disk, the formats. */
async function assemble(
  spec: NormalizedSpec,
  stage: Stage,
  out: string,
  log: (s: string) => void,
): Promise<void> {
  requireRoot();
  requireTools(TOOLS);
  const started = Date.now();
  const { steps, step } = stepTimer(log);
  const diskBytes = parseSize(spec.diskSize);
  const files: SideFiles = { ...stage.files };
  if (spec.defects.length > 0) {
    await step("defects", () => applyDefects(spec, stage, files, diskBytes, out));
  }
  const raw = join(out, FILE_NAMES.raw);
  const { partGuids, ...ids } = stage.diskIds;
  const partitions = await step("disk", () =>
    assembleDisk(spec, diskBytes, files, { ...ids, partGuid: (n) => partGuids[n]! }, raw),
  );
  for (const f of Object.values(files)) if (f.startsWith(out)) rmSync(f, { force: true });
  cpSync(join(stage.dir, "rpmdb"), join(out, "rpmdb"), { recursive: true });
  const formats: Partial<Record<ImageFormat, string>> = {};
  await step("convert", async () => {
    const qcows = spec.formats.filter((f): f is Exclude<ImageFormat, "raw"> => f !== "raw");
    await Promise.all(qcows.map((f) => convert(f, raw, join(out, FILE_NAMES[f]))));
    for (const f of spec.formats) formats[f] = FILE_NAMES[f];
    if (!spec.formats.includes("raw")) rmSync(raw, { force: true });
  });
  const rootPartition = partitions.find((p) => p.fs === spec.rootfs && p.name === "root")?.number ?? null;
  const stored: StoredImage = {
    spec,
    files: formats,
    rootPartition,
    partitions,
    diskBytes,
    expected: stage.expected,
    builderSource: builderSourceHash(),
    buildSeconds: stage.buildSeconds + (Date.now() - started) / 1000,
    stepSeconds: { ...stage.stepSeconds, ...steps },
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), `${JSON.stringify(stored, replacer, 2)}\n`);
}

/** Copies the root and /boot filesystems, builds the spec's defects into the copies (mounted). */
async function applyDefects(
  spec: NormalizedSpec,
  stage: Stage,
  files: SideFiles,
  diskBytes: number,
  out: string,
): Promise<void> {
  const defects = spec.defects.map((d) => DEFECTS[d] as DefectDef);
  const partitions = builtPartitions(spec, diskBytes);
  const sizeOf = (role: "root" | "boot") =>
    spec.layout === "bare" ? diskBytes : partitions.find((p) => p.name === role)!.size;
  files.root = join(out, SIDE_FILES.root);
  await copySparse(stage.files.root, files.root, sizeOf("root"));
  if (stage.files.boot) {
    files.boot = join(out, SIDE_FILES.boot);
    await copySparse(stage.files.boot, files.boot, sizeOf("boot"));
  }
  const edits = defects.filter((d) => d.edit || d.unlabelled);
  if (edits.length > 0) {
    await withMounted(files.root, spec.rootfs, async (root) => {
      const withBoot = async (boot: string) => {
        for (const d of edits) d.edit?.({ root, boot, spec, ids: stage.ids });
        if (defects.some((d) => d.unlabelled)) {
          await unlabelTree(root);
          if (files.boot) await unlabelTree(boot);
        } else {
          await labelTree(root, out);
          if (files.boot) await labelTree(boot, out, "/boot");
        }
      };
      if (files.boot) await withMounted(files.boot, spec.rootfs, withBoot);
      else await withBoot(join(root, "boot"));
    });
  }
  if (defects.some((d) => d.dirty)) await leaveDirty(files.root, spec.rootfs);
}

/**
 * Where the root tree is staged: IMAGEGEN_TMPDIR, else /dev/shm when it has room (thousands of small
 * files are written and deleted; on a busy disk that alone took 10+ s), else the OS temp dir.
 */
function stagingRoot(fillerMiB: number): string {
  if (process.env.IMAGEGEN_TMPDIR) return process.env.IMAGEGEN_TMPDIR;
  try {
    const st = statfsSync("/dev/shm");
    accessSync("/dev/shm", constants.W_OK);
    if (st.bavail * st.bsize > (fillerMiB + 1024) * 2 ** 20 * 2) return "/dev/shm";
  } catch {
    // no usable /dev/shm
  }
  return tmpdir();
}

/** Staging trees of builders that died (they can hold GiBs, in RAM when on /dev/shm). */
function sweepDeadStaging(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^imagegen-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** extraFiles may hold Buffers: stored as {"$base64": ...} so built.json stays readable JSON. */
function replacer(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && (value as { type?: string }).type === "Buffer") {
    return { $base64: Buffer.from((value as { data: number[] }).data).toString("base64") };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && typeof (value as { $base64?: unknown }).$base64 === "string") {
    return Buffer.from((value as { $base64: string }).$base64, "base64");
  }
  return value;
}
