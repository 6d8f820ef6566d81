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
import { makeDisk } from "./disk.js";
import { requireRoot, requireTools } from "./exec.js";
import { writeFiller } from "./filler.js";
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
export { BENCHMARK_IMAGE } from "./presets.js";
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
];

const inFlight = new Map<string, Promise<BuiltImage>>();

/** The cache key (directory name under the cache root) of a spec. */
export function imageKey(spec: ImageSpec): string {
  const normalized = normalizeSpec(spec);
  return cacheKey(normalized, { packages: plannedPackages(normalized).map((p) => p.name) });
}

/** Builds (or finds in the cache) the image described by `spec`. */
export function buildImage(spec: ImageSpec, options: BuildOptions = {}): Promise<BuiltImage> {
  const normalized = normalizeSpec(spec);
  const key = imageKey(spec);
  let p = inFlight.get(key);
  if (!p) {
    p = cached(key, async (tmp) => {
      await build(normalized, key, tmp, options.log ?? (() => {}));
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

async function build(
  spec: NormalizedSpec,
  key: string,
  out: string,
  log: (s: string) => void,
): Promise<void> {
  requireRoot();
  requireTools(TOOLS);
  const started = Date.now();
  const steps: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    const r = await fn();
    steps[name] = (Date.now() - t) / 1000;
    log(`imagegen: ${name} ${steps[name]!.toFixed(1)} s`);
    return r;
  };
  const diskBytes = parseSize(spec.diskSize);
  const ids: TreeIds = {
    rootUuid: uuidFrom(`${key}/root`),
    bootUuid: uuidFrom(`${key}/boot`),
    espVolumeId: volumeIdFrom(`${key}/esp`),
    kernel: kernelVersion(spec.el, spec.arch),
    machineId: uuidFrom(`${key}/machine-id`).replace(/-/g, ""),
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
      stageBootTree(boot, ids);
      stageEspTree(esp, spec.arch, ids);
    });
    if (spec.fillerMiB > 0) await step("filler", () => writeFiller(root, spec.fillerMiB));
    const rpms = await step("rpmbuild", () => buildRpms(spec, work, root));
    await step("rpm-install", () => installRpms(spec, root, rpms, work));
    linkRpmdb(root, spec);
    writeExtraFiles(root, spec.extraFiles);
    const backend = spec.el === "8" ? "bdb" : "sqlite";
    const dbDir = join(root, spec.rpmdbPath);
    const releasePackage = releasePackageName(spec.el);
    const facts = await step("oracle", () => queryDb(dbDir, backend, releasePackage, work));
    cpSync(dbDir, join(out, "rpmdb"), { recursive: true });

    const raw = join(out, FILE_NAMES.raw);
    const partitions = await step("disk", () =>
      makeDisk(
        spec,
        diskBytes,
        { root, boot, esp },
        {
          diskGuid: uuidFrom(`${key}/disk`),
          partGuid: (n) => uuidFrom(`${key}/part${n}`),
          rootUuid: ids.rootUuid,
          bootUuid: ids.bootUuid,
          espVolumeId: ids.espVolumeId,
        },
        raw,
        out,
      ),
    );
    const files: Partial<Record<ImageFormat, string>> = {};
    await step("convert", async () => {
      const qcows = spec.formats.filter((f): f is Exclude<ImageFormat, "raw"> => f !== "raw");
      await Promise.all(qcows.map((f) => convert(f, raw, join(out, FILE_NAMES[f]))));
      for (const f of spec.formats) files[f] = FILE_NAMES[f];
      if (!spec.formats.includes("raw")) rmSync(raw, { force: true });
    });

    const rootPartition = partitions.find((p) => p.fs === spec.rootfs && p.name === "root")?.number ?? null;
    const stored: StoredImage = {
      spec,
      files,
      rootPartition,
      partitions,
      diskBytes,
      expected: {
        packageNames: facts.packageNames,
        packagesNevra: facts.packagesNevra,
        releaseFileContent: readOrNull(join(root, "etc/almalinux-release")),
        osRelease: readOrNull(join(root, "etc/os-release")),
        releasePackageArch: facts.releasePackageArch,
        releasePackage,
        rpmdbPath: spec.rpmdbPath,
        rpmdbBackend: backend,
      },
      builderSource: builderSourceHash(),
      buildSeconds: (Date.now() - started) / 1000,
      stepSeconds: steps,
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, MARKER), `${JSON.stringify(stored, replacer, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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
