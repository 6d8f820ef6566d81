/**
 * What can be built: image types, versions, arches, variants and the legs that exist.
 * Pure data plus lookups; no I/O. Adding a version or variant means editing LEGS (and, for a new
 * suffix or version, the lists above it); everything else (matrices, workflows, resolver) follows.
 */

export const IMAGE_TYPES = ["azure", "gencloud", "gencloud_ext4", "oci", "opennebula"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** Major versions, in the order the workflows offer them (newest first). */
export const VERSIONS = ["10-kitten", "10", "9", "8"] as const;
export type Version = (typeof VERSIONS)[number];

export const ARCHES = ["x86_64", "aarch64"] as const;
export type Arch = (typeof ARCHES)[number];

/** Architecture as the release package and rpm report it (`x86_64_v2` for -v2 legs). */
export type AlmaArch = Arch | "x86_64_v2";

/** Variant suffixes: `v2` = x86_64_v2 microarchitecture, `64k` = aarch64 kernel with 64 KiB pages. */
export const SUFFIXES = ["v2", "64k"] as const;
export type Suffix = (typeof SUFFIXES)[number];

/** A variant is a version with an optional suffix: `9`, `10-v2`, `9-64k`, `10-kitten-64k`. */
export type Variant = string;

export type ImageFormat = "raw" | "qcow2";
export type RootFilesystem = "xfs" | "ext4";

export interface ImageTypeInfo {
  readonly type: ImageType;
  /** Human label as the seed's job summary prints it. */
  readonly label: string;
  readonly format: ImageFormat;
  readonly rootFilesystem: RootFilesystem;
}

export const IMAGE_TYPE_INFO: Readonly<Record<ImageType, ImageTypeInfo>> = {
  azure: { type: "azure", label: "Azure", format: "raw", rootFilesystem: "xfs" },
  gencloud: { type: "gencloud", label: "Gencloud", format: "qcow2", rootFilesystem: "xfs" },
  gencloud_ext4: { type: "gencloud_ext4", label: "Gencloud Ext4", format: "qcow2", rootFilesystem: "ext4" },
  oci: { type: "oci", label: "Oci", format: "qcow2", rootFilesystem: "xfs" },
  opennebula: { type: "opennebula", label: "Opennebula", format: "qcow2", rootFilesystem: "xfs" },
};

/** Root partition number in the AlmaLinux disk layout. */
export const ROOT_PARTITION: Readonly<Record<Arch, number>> = { x86_64: 4, aarch64: 3 };

/** Every leg that exists, per image type and arch, in the order the workflows fan out to them. */
export const LEGS: Readonly<Record<ImageType, Readonly<Record<Arch, readonly Variant[]>>>> = {
  azure: {
    x86_64: ["8", "9", "10", "10-kitten"],
    aarch64: ["9", "9-64k", "10", "10-64k", "10-kitten", "10-kitten-64k"],
  },
  gencloud: {
    x86_64: ["8", "9", "10", "10-v2", "10-kitten", "10-kitten-v2"],
    aarch64: ["8", "9", "10", "10-kitten"],
  },
  gencloud_ext4: {
    x86_64: ["8", "9", "10", "10-v2", "10-kitten", "10-kitten-v2"],
    aarch64: ["8", "9", "10", "10-kitten"],
  },
  oci: {
    x86_64: ["8", "9", "10"],
    aarch64: ["8", "9", "10"],
  },
  opennebula: {
    x86_64: ["8", "9", "10", "10-v2", "10-kitten", "10-kitten-v2"],
    aarch64: ["8", "9", "10", "10-kitten"],
  },
};

export const WORKFLOW_IDS = ["azure", "gencloud", "oci", "opennebula"] as const;
export type WorkflowId = (typeof WORKFLOW_IDS)[number];

export interface WorkflowInfo {
  readonly id: WorkflowId;
  readonly file: string;
  readonly name: string;
  /** Image types the workflow builds; more than one becomes the `subtype` dimension. */
  readonly types: readonly ImageType[];
  /** Versions offered by the `version_major` input, first is listed first. */
  readonly versions: readonly Version[];
  readonly defaultVersion: Version;
}

/** The versions a set of image types has any leg for, in VERSIONS order. */
function versionsBuilt(types: readonly ImageType[]): Version[] {
  return VERSIONS.filter((v) =>
    types.some((t) => ARCHES.some((a) => LEGS[t][a].some((variant) => parseVariant(variant)?.version === v))),
  );
}

function workflow(id: WorkflowId, name: string, types: readonly ImageType[]): WorkflowInfo {
  return { id, file: `${id}-build.yml`, name, types, versions: versionsBuilt(types), defaultVersion: "10" };
}

export const WORKFLOWS: Readonly<Record<WorkflowId, WorkflowInfo>> = {
  azure: workflow("azure", "Azure: Build Image", ["azure"]),
  gencloud: workflow("gencloud", "GenericCloud: Build Image", ["gencloud", "gencloud_ext4"]),
  oci: workflow("oci", "OCI: Build Image", ["oci"]),
  opennebula: workflow("opennebula", "OpenNebula: Build Image", ["opennebula"]),
};

export interface ParsedVariant {
  readonly variant: Variant;
  readonly version: Version;
  readonly suffix: Suffix | undefined;
}

/** Splits `10-kitten-64k` into version `10-kitten` and suffix `64k`; undefined when malformed. */
export function parseVariant(variant: string): ParsedVariant | undefined {
  for (const version of VERSIONS) {
    if (variant === version) return { variant, version, suffix: undefined };
    for (const suffix of SUFFIXES) {
      if (variant === `${version}-${suffix}`) return { variant, version, suffix };
    }
  }
  return undefined;
}

export interface Leg {
  readonly type: ImageType;
  readonly variant: Variant;
  readonly arch: Arch;
}

export function legExists(leg: Leg): boolean {
  return LEGS[leg.type][leg.arch].includes(leg.variant);
}

/** Every leg of the catalog, type by type, x86_64 before aarch64. */
export function allLegs(): Leg[] {
  return IMAGE_TYPES.flatMap((type) =>
    ARCHES.flatMap((arch) => LEGS[type][arch].map((variant) => ({ type, variant, arch }))),
  );
}

export function isImageType(s: string): s is ImageType {
  return (IMAGE_TYPES as readonly string[]).includes(s);
}
export function isVersion(s: string): s is Version {
  return (VERSIONS as readonly string[]).includes(s);
}
export function isArch(s: string): s is Arch {
  return (ARCHES as readonly string[]).includes(s);
}
export function isWorkflowId(s: string): s is WorkflowId {
  return (WORKFLOW_IDS as readonly string[]).includes(s);
}

export function isKitten(version: Version): boolean {
  return version === "10-kitten";
}
