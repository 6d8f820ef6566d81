/**
 * Verifies a built image the way the seed pipeline does, made exact: the release file, the release
 * package's ARCH (x86_64 ≠ x86_64_v2), the root partition, os-release; and writes the installed-package
 * name list in the seed's format beside the image. Read with the pure-code reader (no root, no mount)
 * or, for parity with the seed, through qemu-nbd and a kernel mount.
 */
import { CloudImagesError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { timedAsync } from "../phases.js";
import { resolve } from "../resolve/resolve.js";
import { type InstalledPackage, nevra } from "../rpm/package.js";
import {
  BUILD_STAMP_FILE,
  DEFAULT_RELEASE_PACKAGE,
  type Observations,
  type Observed,
  type ObservedPackages,
  OS_RELEASE_FILE,
  RELEASE_FILE,
  runChecks,
  type VerifyExpectations,
} from "./checks.js";
import { defaultPackagesFile, packageNamesText } from "./package-list.js";
import { type OpenedRoot, openImageRoot } from "./root.js";
import { readImagePackages } from "./rpmdb.js";
import type { CheckResult, Verdict } from "./verdict.js";

export type { VerifyExpectations } from "./checks.js";

export type VerifyBackend = "native" | "nbd";

export interface VerifyOptions {
  /** Where to write the package-name list; default `IMAGE.txt` beside the image; null: not written. */
  readonly packagesOut?: string | null;
  /** `native` (default): the pure-code reader. `nbd`: qemu-nbd + mount + rpm, root only. */
  readonly backend?: VerifyBackend;
  /** Told how many bytes of the image file the native reader read. */
  readonly onBytesRead?: (bytes: number) => void;
  /** Given the installed packages read (native backend, readable database), e.g. for an SBOM. */
  readonly onPackages?: (packages: readonly InstalledPackage[]) => void;
  /**
   * More checks over the opened image (the acceptance policy), run after the built-in ones and before
   * the package list is written. They read the image natively whatever the backend.
   */
  readonly extraChecks?: ExtraChecks;
}

/** Checks run on the opened image, given what the built-in checks observed. */
export type ExtraChecks = (root: OpenedRoot, observations: Observations) => Promise<CheckResult[]>;

/** Largest release or os-release file we read. */
const MAX_SMALL_FILE = 1024 * 1024;

/** Every expectation of one catalog leg (`--type --variant --arch --release`). */
export function expectationsForLeg(input: {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
  readonly release?: string | undefined;
}): Required<Omit<VerifyExpectations, "buildStamp">> {
  // Names depend on the time stamp; the expectations do not, so any valid one will do.
  const r = resolve({ ...input, timestamp: "20000101000000" });
  return {
    releaseString: r.releaseString,
    arch: r.almaArch,
    releasePackage: r.releasePackage,
    rootPartition: r.rootPartition,
    release: r.release,
  };
}

export function validateExpectations(exp: VerifyExpectations): void {
  if (exp.releaseString.trim() === "")
    throw new UsageError("the release string is empty (e.g. AlmaLinux release 9.6)");
  if (!/^[A-Za-z0-9_]+$/.test(exp.arch))
    throw new UsageError(`invalid arch "${exp.arch}" (valid: x86_64, x86_64_v2, aarch64)`);
  const pkg = exp.releasePackage;
  if (pkg !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(pkg))
    throw new UsageError(`invalid release package name "${pkg}" (valid: an rpm package name)`);
  const n = exp.rootPartition;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 999))
    throw new UsageError(`invalid root partition ${n} (valid: 1-999)`);
}

/** Runs every check and writes the package list; never prints. */
export async function verifyImage(
  path: string,
  expectations: VerifyExpectations,
  options: VerifyOptions = {},
): Promise<Verdict> {
  validateExpectations(expectations);
  let obs: Observations;
  let extra: CheckResult[] = [];
  if ((options.backend ?? "native") === "nbd") {
    const { observeWithNbd } = await import("./nbd.js");
    if (expectations.rootPartition === undefined)
      throw new UsageError("--backend nbd needs the root partition (--root-partition N or a catalog leg)");
    obs = await observeWithNbd(path, {
      rootPartition: expectations.rootPartition,
      releasePackage: expectations.releasePackage ?? DEFAULT_RELEASE_PACKAGE,
    });
    const checksOf = options.extraChecks;
    if (checksOf) extra = await withNativeRoot(path, expectations, undefined, (root) => checksOf(root, obs));
  } else {
    const checksOf = options.extraChecks;
    [obs, extra] = await withNativeRoot(path, expectations, options.onBytesRead, async (root) => {
      const o = await observeRoot(root, expectations.releasePackage ?? DEFAULT_RELEASE_PACKAGE);
      return [o, checksOf ? await checksOf(root, o) : []] as const;
    });
  }
  if (obs.packages.ok && obs.packages.value.packages) options.onPackages?.(obs.packages.value.packages);
  const checks = [...runChecks(obs, expectations), ...extra];
  let packagesFile: string | undefined;
  if (options.packagesOut !== null) {
    const out = options.packagesOut ?? defaultPackagesFile(path);
    const written = await timedAsync("package-list", () => writePackageList(obs.packages, out));
    checks.push(written);
    if (written.status === "pass") packagesFile = out;
  }
  return {
    passed: checks.every((c) => c.status !== "fail"),
    image: path,
    checks,
    ...(obs.root.partition !== null ? { rootPartition: obs.root.partition } : {}),
    ...(obs.packages.ok ? { packageCount: obs.packages.value.names.length } : {}),
    ...(packagesFile !== undefined ? { packagesFile } : {}),
  };
}

async function writePackageList(packages: Observed<ObservedPackages>, out: string): Promise<CheckResult> {
  if (!packages.ok) {
    return { name: "package-list", status: "skip", message: `${out} not written: no readable rpm database` };
  }
  try {
    await writeFileAtomic(out, packageNamesText(packages.value.names));
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    return { name: "package-list", status: "fail", found: "not written", message: e.message };
  }
  const n = packages.value.names.length;
  return {
    name: "package-list",
    status: "pass",
    found: out,
    message: `${n} package names written to ${out}`,
  };
}

/** What the pure-code reader finds in the image. */
export function observeNative(
  path: string,
  exp: VerifyExpectations,
  onBytesRead?: (bytes: number) => void,
): Promise<Observations> {
  return withNativeRoot(path, exp, onBytesRead, (root) =>
    observeRoot(root, exp.releasePackage ?? DEFAULT_RELEASE_PACKAGE),
  );
}

/** Opens the image's root with the pure-code reader, runs `use`, closes it and reports the bytes read. */
async function withNativeRoot<T>(
  path: string,
  exp: VerifyExpectations,
  onBytesRead: ((bytes: number) => void) | undefined,
  use: (root: OpenedRoot) => Promise<T>,
): Promise<T> {
  const root = await openImageRoot(path, {
    ...(exp.rootPartition !== undefined ? { expectedRootPartition: exp.rootPartition } : {}),
    fallbackToExpected: true,
  });
  try {
    return await use(root);
  } finally {
    await root.close();
    onBytesRead?.(root.image.file.bytesRead);
  }
}

/** What is found in an opened root filesystem. */
export async function observeRoot(root: OpenedRoot, releasePackage: string): Promise<Observations> {
  const small = (path: string) =>
    observe(() =>
      timedAsync("small-files", async () => (await root.paths.readFile(path, MAX_SMALL_FILE)).toString()),
    );
  return {
    root: { partition: root.rootPartition, filesystem: root.fs.type, foundBy: root.rootFoundBy },
    releaseFile: await small(RELEASE_FILE),
    osRelease: await small(OS_RELEASE_FILE),
    buildStamp: await small(BUILD_STAMP_FILE),
    packages: await observe(async () => {
      const { format, dbPath, packages } = await readImagePackages(root);
      return {
        format,
        dbPath,
        names: packages.map((p) => p.name),
        releasePackage: packages
          .filter((p) => p.name === releasePackage)
          .map((p) => ({ nevra: nevra(p), arch: p.arch })),
        packages,
      };
    }),
  };
}

/** Runs a read; a CloudImagesError (missing file, corrupt data) becomes an observed error. */
async function observe<T>(read: () => Promise<T>): Promise<Observed<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    return { ok: false, error: e.message };
  }
}
