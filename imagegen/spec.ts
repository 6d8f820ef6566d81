/** What an image to build looks like (ImageSpec), what a build returns (BuiltImage), defaults and checks. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../src/errors.js";
import { DEFECTS, type Defect } from "./defects.js";
import { IMAGE_TYPES, type ImageType } from "./image-types.js";

export type ImageArch = "x86_64" | "aarch64" | "x86_64_v2";
export type ElVersion = "8" | "9" | "10" | "10-kitten";
export type RootFs = "xfs" | "ext4";
export type ImageFormat = "raw" | "qcow2" | "qcow2-zlib" | "qcow2-zstd";
export type RpmdbPath = "/var/lib/rpm" | "/usr/lib/sysimage/rpm";

export const ARCHES: readonly ImageArch[] = ["x86_64", "aarch64", "x86_64_v2"];
export const EL_VERSIONS: readonly ElVersion[] = ["8", "9", "10", "10-kitten"];
export const ROOT_FILESYSTEMS: readonly RootFs[] = ["xfs", "ext4"];
export const FORMATS: readonly ImageFormat[] = ["raw", "qcow2", "qcow2-zlib", "qcow2-zstd"];

export interface ImageSpec {
  arch: ImageArch;
  el: ElVersion;
  /** "9.6", "8.10", "10.1"; Kitten "10". */
  release: string;
  rootfs: RootFs;
  formats: ImageFormat[];
  /** small: ~45 names; realistic: a real AlmaLinux cloud-image list for the major version; or explicit names. */
  packages?: "small" | "realistic" | string[];
  /** Extra real-ish data (host files from /usr/lib, concatenated) under /usr/lib/filler, in MiB. */
  fillerMiB?: number;
  /** The filler is shipped by a package (imagegen-filler), so the rpm database records its digests. */
  fillerOwned?: boolean;
  /** Virtual disk size (sparse), e.g. "10G", "4096M". Default 10G. */
  diskSize?: string;
  /** almalinux: GPT in the AlmaLinux layout; bare: the disk is just the root filesystem. */
  layout?: "almalinux" | "bare";
  /** Default: EL10/Kitten /usr/lib/sysimage/rpm (with /var/lib/rpm a symlink to it), EL8/9 /var/lib/rpm. */
  rpmdbPath?: RpmdbPath;
  /** Exact content of /etc/almalinux-release (owned by the release package); null = no such file. */
  releaseFile?: string | null;
  /** Fields merged over the default /usr/lib/os-release ones; null = no os-release at all. */
  osRelease?: Record<string, string> | null;
  /** Build the release package for this arch instead of the image's (to test arch checks). */
  releasePackageArch?: string;
  /** Extra files (absolute paths inside the root filesystem), written last, replacing what is there. */
  extraFiles?: Record<string, string | Buffer>;
  /**
   * The AlmaLinux image type whose content the image has (the type's packages, enabled units, kernel
   * arguments; see image-types.ts). Default gencloud, gencloud_ext4 for an ext4 root.
   */
  imageType?: ImageType;
  /** `64k`: the aarch64 64 KiB-page kernel (kernel-64k-* packages, a `+64k` kernel release). */
  kernel?: "standard" | "64k";
  /** Packages left out of the small or realistic list (e.g. tar, for a required-packages defect). */
  removePackages?: string[];
  /** Packages built for another arch than the image's (e.g. glibc: i686, a package-arch defect). */
  packageArches?: Record<string, string>;
  /** Defects built into an otherwise clean image, one per acceptance-policy check (see defects.ts). */
  defects?: Defect[];
}

/** A spec with every default filled in: what the cache key and the build use. */
export interface NormalizedSpec {
  arch: ImageArch;
  el: ElVersion;
  release: string;
  rootfs: RootFs;
  formats: ImageFormat[];
  packages: "small" | "realistic" | string[];
  fillerMiB: number;
  fillerOwned: boolean;
  diskSize: string;
  layout: "almalinux" | "bare";
  rpmdbPath: RpmdbPath;
  releaseFile?: string | null;
  osRelease?: Record<string, string> | null;
  releasePackageArch: string;
  extraFiles: Record<string, string | Buffer>;
  imageType: ImageType;
  kernel: "standard" | "64k";
  removePackages: string[];
  packageArches: Record<string, string>;
  defects: Defect[];
}

export interface BuiltPartition {
  number: number;
  /** GPT partition name. */
  name: string;
  /** Byte offset of the partition in the raw disk. */
  start: number;
  /** Size in bytes. */
  size: number;
  /** Filesystem made in it; null for the BIOS boot partition. */
  fs: "vfat" | "xfs" | "ext4" | null;
  /** sgdisk type code, e.g. EF02, EF00, 8300. */
  type: string;
}

export interface BuiltImage {
  /** The cache directory holding the files. */
  dir: string;
  spec: NormalizedSpec;
  paths: Partial<Record<ImageFormat, string>>;
  /** GPT partition number of the root filesystem; null for layout "bare". */
  rootPartition: number | null;
  partitions: BuiltPartition[];
  /** Virtual disk size in bytes. */
  diskBytes: number;
  /** A copy of the rpm database directory exactly as it is inside the image. */
  rpmdbDir: string;
  expected: {
    /** `rpm --dbpath DB -qa --qf '%{NAME}\n' | LC_ALL=C sort` on the built database. */
    packageNames: string[];
    /** NAME-[EPOCH:]VERSION-RELEASE.ARCH per installed header, LC_ALL=C sorted, from rpm likewise. */
    packagesNevra: string[];
    releaseFileContent: string | null;
    /** Content of /etc/os-release (a symlink to ../usr/lib/os-release), or null when absent. */
    osRelease: string | null;
    releasePackageArch: string;
    releasePackage: string;
    rpmdbPath: RpmdbPath;
    rpmdbBackend: "sqlite" | "bdb";
    /** The installed kernel's release (uname -r): /boot/vmlinuz-KERNEL, /lib/modules/KERNEL. */
    kernel: string;
  };
  /** Hash of the builder's source that made it (entries from other sources are pruned). */
  builderSource: string;
  /** Wall time of the build that made the cached files, and of its steps, in seconds. */
  buildSeconds: number;
  stepSeconds: Record<string, number>;
}

/** Bump when the builder's output changes, so cached images are rebuilt. */
export const BUILDER_VERSION = 2;

const RELEASE_RE = /^\d+(\.\d+)?$/;
const SIZE_RE = /^(\d+)([KMGT]?)(i?B)?$/i;
const PKG_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const ARCH_RE = /^[A-Za-z0-9_]+$/;

export function normalizeSpec(spec: ImageSpec): NormalizedSpec {
  if (!ARCHES.includes(spec.arch))
    throw new UsageError(`imagegen: invalid arch "${spec.arch}" (valid: ${ARCHES.join(", ")})`);
  if (!EL_VERSIONS.includes(spec.el))
    throw new UsageError(`imagegen: invalid el "${spec.el}" (valid: ${EL_VERSIONS.join(", ")})`);
  if (!RELEASE_RE.test(spec.release))
    throw new UsageError(`imagegen: invalid release "${spec.release}" (valid: e.g. 9.6, 8.10, 10)`);
  if (!ROOT_FILESYSTEMS.includes(spec.rootfs))
    throw new UsageError(`imagegen: invalid rootfs "${spec.rootfs}" (valid: xfs, ext4)`);
  if (!Array.isArray(spec.formats) || spec.formats.length === 0)
    throw new UsageError(`imagegen: formats is empty (valid: ${FORMATS.join(", ")})`);
  for (const f of spec.formats)
    if (!FORMATS.includes(f))
      throw new UsageError(`imagegen: invalid format "${f}" (valid: ${FORMATS.join(", ")})`);
  const packages = spec.packages ?? "small";
  if (Array.isArray(packages)) {
    for (const n of packages)
      if (!PKG_NAME_RE.test(n))
        throw new UsageError(`imagegen: invalid package name "${n}" (valid: letters, digits, . _ + -)`);
  } else if (packages !== "small" && packages !== "realistic") {
    throw new UsageError(`imagegen: invalid packages "${packages}" (valid: small, realistic, or a list)`);
  }
  const fillerMiB = spec.fillerMiB ?? 0;
  if (!Number.isInteger(fillerMiB) || fillerMiB < 0)
    throw new UsageError(`imagegen: invalid fillerMiB ${fillerMiB} (valid: an integer >= 0)`);
  const diskSize = spec.diskSize ?? "10G";
  parseSize(diskSize);
  const layout = spec.layout ?? "almalinux";
  if (layout !== "almalinux" && layout !== "bare")
    throw new UsageError(`imagegen: invalid layout "${layout}" (valid: almalinux, bare)`);
  const newDb = spec.el === "10" || spec.el === "10-kitten";
  const rpmdbPath = spec.rpmdbPath ?? (newDb ? "/usr/lib/sysimage/rpm" : "/var/lib/rpm");
  if (rpmdbPath !== "/var/lib/rpm" && rpmdbPath !== "/usr/lib/sysimage/rpm")
    throw new UsageError(
      `imagegen: invalid rpmdbPath "${rpmdbPath}" (valid: /var/lib/rpm, /usr/lib/sysimage/rpm)`,
    );
  const releasePackageArch = spec.releasePackageArch ?? spec.arch;
  if (!ARCH_RE.test(releasePackageArch))
    throw new UsageError(`imagegen: invalid releasePackageArch "${releasePackageArch}" (valid: e.g. x86_64)`);
  const extraFiles = spec.extraFiles ?? {};
  for (const p of Object.keys(extraFiles)) checkImagePath(p);
  const imageType = spec.imageType ?? (spec.rootfs === "ext4" ? "gencloud_ext4" : "gencloud");
  if (!IMAGE_TYPES.includes(imageType))
    throw new UsageError(`imagegen: invalid imageType "${imageType}" (valid: ${IMAGE_TYPES.join(", ")})`);
  const kernel = spec.kernel ?? "standard";
  if (kernel !== "standard" && kernel !== "64k")
    throw new UsageError(`imagegen: invalid kernel "${kernel}" (valid: standard, 64k)`);
  if (kernel === "64k" && spec.arch !== "aarch64")
    throw new UsageError(
      "imagegen: the 64k kernel exists only on aarch64 (valid: kernel 64k with arch aarch64)",
    );
  const removePackages = [...new Set(spec.removePackages ?? [])].sort();
  for (const n of removePackages)
    if (!PKG_NAME_RE.test(n))
      throw new UsageError(
        `imagegen: invalid package name "${n}" in removePackages (valid: letters, digits, . _ + -)`,
      );
  const packageArches = { ...(spec.packageArches ?? {}) };
  for (const [n, a] of Object.entries(packageArches))
    if (!PKG_NAME_RE.test(n) || !ARCH_RE.test(a))
      throw new UsageError(
        `imagegen: invalid packageArches entry "${n}": "${a}" (valid: a package name and an arch)`,
      );
  const defects = [...new Set(spec.defects ?? [])].sort();
  for (const d of defects)
    if (!(d in DEFECTS))
      throw new UsageError(`imagegen: invalid defect "${d}" (valid: ${Object.keys(DEFECTS).join(", ")})`);
  const out: NormalizedSpec = {
    arch: spec.arch,
    el: spec.el,
    release: spec.release,
    rootfs: spec.rootfs,
    formats: FORMATS.filter((f) => spec.formats.includes(f)),
    packages: Array.isArray(packages) ? [...packages] : packages,
    fillerMiB,
    fillerOwned: spec.fillerOwned ?? false,
    diskSize,
    layout,
    rpmdbPath,
    releasePackageArch,
    extraFiles,
    imageType,
    kernel,
    removePackages,
    packageArches,
    defects,
  };
  if (spec.releaseFile !== undefined) out.releaseFile = spec.releaseFile;
  if (spec.osRelease !== undefined) out.osRelease = spec.osRelease;
  return out;
}

/** Absolute, normalized, no `..`, no names mkfs.xfs protofiles cannot carry (space, colon). */
export function checkImagePath(p: string): void {
  const parts = p.split("/").slice(1);
  if (
    !p.startsWith("/") ||
    parts.length === 0 ||
    parts.some((s) => s === "" || s === "." || s === ".." || /[\s:]/.test(s))
  ) {
    throw new UsageError(
      `imagegen: invalid image path "${p}" (valid: absolute, no . or .. parts, no spaces or colons)`,
    );
  }
}

/** "10G" → bytes (binary units, like truncate). */
export function parseSize(s: string): number {
  const m = SIZE_RE.exec(s);
  if (!m) throw new UsageError(`imagegen: invalid size "${s}" (valid: e.g. 10G, 4096M)`);
  const unit = (m[2] ?? "").toUpperCase();
  const shift = { "": 0, K: 10, M: 20, G: 30, T: 40 }[unit] ?? 0;
  return Number(m[1]) * 2 ** shift;
}

/**
 * sha256 over the normalized spec (stable key order, Buffers by content), the builder version, the
 * builder's own source (so an edited builder never serves stale images) and extras.
 */
export function cacheKey(spec: NormalizedSpec, extra: unknown): string {
  const h = createHash("sha256");
  h.update(stableJson({ builder: BUILDER_VERSION, source: builderSourceHash(), spec, extra }));
  return h.digest("hex");
}

let sourceHash: string | undefined;

export function builderSourceHash(): string {
  if (sourceHash === undefined) {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const h = createHash("sha256");
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith(".ts") || f === "cli.ts" || f === "packer-base.ts") continue;
      h.update(f).update(readFileSync(join(dir, f)));
    }
    sourceHash = h.digest("hex");
  }
  return sourceHash;
}

function stableJson(v: unknown): string {
  if (Buffer.isBuffer(v)) return JSON.stringify({ $buffer: v.toString("base64") });
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v).sort();
    const o = v as Record<string, unknown>;
    return `{${keys
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
