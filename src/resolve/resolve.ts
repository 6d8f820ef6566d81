/**
 * Everything one build leg is called: Packer source, output mask, S3 prefix, release strings.
 * Pure. The naming rules reproduce the seed's resolve-image-config.sh, which encodes the names used
 * by the real Packer templates.
 */
import {
  type AlmaArch,
  type Arch,
  IMAGE_TYPE_INFO,
  type ImageFormat,
  type ImageType,
  isKitten,
  type Leg,
  parseVariant,
  ROOT_PARTITION,
  type RootFilesystem,
  type Version,
} from "../catalog/catalog.js";
import { requireLeg } from "../catalog/validate.js";
import { UsageError } from "../errors.js";
import { printable } from "../text.js";
import { parseTimeStamp } from "./stamp.js";

export interface ResolvedLeg {
  readonly packerSource: string;
  readonly packerBuilder: "qemu";
  readonly outputMask: string;
  readonly s3Prefix: string;
  readonly versionMajor: Version;
  readonly almaArch: AlmaArch;
  readonly release: string;
  readonly releaseString: string;
  readonly releasePackage: string;
  readonly imageType: string;
  readonly rootPartition: number;
  readonly imageFormat: ImageFormat;
  readonly rootFilesystem: RootFilesystem;
}

export interface ResolveInput {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
  /** Point release such as `9.6`; Kitten is always `10` and may omit it. */
  readonly release?: string | undefined;
  /** YYYYMMDDhhmmss. */
  readonly timestamp: string;
}

/** Validates the input against the catalog and resolves it; throws UsageError on bad input. */
export function resolve(input: ResolveInput): ResolvedLeg {
  const leg = requireLeg(input.type, input.variant, input.arch);
  const { timeStamp } = parseTimeStamp(input.timestamp);
  const version = parseVariant(leg.variant)!.version;
  return resolveLeg(leg, requireRelease(version, input.release), timeStamp);
}

/** The release a leg uses: given, or `10` for Kitten; `MAJOR.MINOR` with the leg's major otherwise. */
export function requireRelease(version: Version, release: string | undefined): string {
  if (isKitten(version)) {
    if (release === undefined || release === "10") return "10";
    throw new UsageError(`invalid release "${printable(release)}" for 10-kitten (valid: 10)`);
  }
  if (release === undefined) {
    throw new UsageError(`a release is required for version ${version} (for example ${version}.0)`);
  }
  const m = /^([0-9]{1,2})\.([0-9]{1,3})$/.exec(release);
  if (!m || m[1] !== version) {
    throw new UsageError(
      `invalid release "${printable(release)}" for version ${version} (valid: ${version}.N)`,
    );
  }
  return release;
}

export function almaArchOf(leg: Leg): AlmaArch {
  return parseVariant(leg.variant)?.suffix === "v2" ? "x86_64_v2" : leg.arch;
}

/** Resolves a leg already known to be in the catalog. */
export function resolveLeg(leg: Leg, release: string, timeStamp: string): ResolvedLeg {
  const { version, suffix } = parseVariant(leg.variant)!;
  const info = IMAGE_TYPE_INFO[leg.type];
  const names = packerNames(leg.type, version, leg.arch, suffix === "v2", suffix === "64k");
  const kitten = isKitten(version);
  return {
    packerSource: `qemu.${names.source}`,
    packerBuilder: "qemu",
    outputMask: names.mask,
    s3Prefix: kitten
      ? `images/kitten/10/${leg.type}/${timeStamp}`
      : `images/${version}/${release}/${leg.type}/${timeStamp}`,
    versionMajor: version,
    almaArch: almaArchOf(leg),
    release,
    releaseString: kitten ? `AlmaLinux Kitten release ${release}` : `AlmaLinux release ${release}`,
    releasePackage: kitten ? "almalinux-kitten-release" : "almalinux-release",
    imageType: suffix === "64k" ? `${info.label} 64k` : info.label,
    rootPartition: ROOT_PARTITION[leg.arch],
    imageFormat: info.format,
    rootFilesystem: info.rootFilesystem,
  };
}

/** Packer source name (without `qemu.`) and the glob that finds its image, per the templates' naming. */
function packerNames(
  type: ImageType,
  version: Version,
  arch: Arch,
  v2: boolean,
  k64: boolean,
): { source: string; mask: string } {
  const ext = IMAGE_TYPE_INFO[type].format;
  const v2Tail = v2 ? "_v2" : "";
  if (isKitten(version)) {
    // Kitten spells 64k after the arch: almalinux_kitten_10_azure_aarch64_64k.
    const source = `almalinux_kitten_10_${type}_${arch}${v2Tail}${k64 ? "_64k" : ""}`;
    return { source, mask: `output-${source}/AlmaLinux-Kitten-*.${arch}*.${ext}` };
  }
  if (type === "azure") {
    if (version === "10") {
      const source = k64 ? `almalinux_10_azure_64k_${arch}` : `almalinux_10_azure_${arch}${v2Tail}`;
      return { source, mask: `output-${source}/AlmaLinux-*.${arch}*.raw` };
    }
    const source = k64 ? `almalinux_${version}_azure_64k_${arch}` : `almalinux-${version}-azure-${arch}`;
    return { source, mask: `output-${source}/AlmaLinux-*${version}*.${arch}.raw` };
  }
  if (version === "10" && type !== "oci") {
    const source = `almalinux_10_${type}_${arch}${v2Tail}`;
    return { source, mask: `output-${source}/AlmaLinux-*.${arch}*.${ext}` };
  }
  // AL 8/9 everywhere and OCI 10 keep the dashed form; gencloud_ext4 is spelled gencloud-ext4 there.
  const source = `almalinux-${version}-${type.replace("_", "-")}-${arch}`;
  return { source, mask: `output-${source}/AlmaLinux-${version}-*.${arch}.${ext}` };
}

/** The seed script's output lines (`packer_source=…` etc.), a drop-in for `resolve-image-config.sh`. */
export function toEnvLines(r: ResolvedLeg): string[] {
  return [
    `packer_source=${r.packerSource}`,
    `output_mask=${r.outputMask}`,
    `AWS_S3_PATH=${r.s3Prefix}`,
    `packer_builder=${r.packerBuilder}`,
  ];
}
