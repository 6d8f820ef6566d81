/**
 * What `inspect` reports about an image: container (with qcow2's corrupt bit), partitions, whether
 * each filesystem was cleanly unmounted, the root, its os-release and whether it carries SELinux labels.
 */
import { CloudImagesError } from "../errors.js";
import type { Filesystem } from "../fs/types.js";
import { parseOsRelease } from "./os-release.js";
import { type OpenedRoot, type OpenRootOptions, openImageRoot } from "./root.js";

export interface PartitionSummary {
  readonly number: number;
  readonly start: number;
  readonly size: number;
  readonly type: string;
  readonly typeGuid?: string;
  readonly name?: string;
  readonly filesystem: string;
  readonly label?: string;
  readonly uuid?: string;
  readonly root: boolean;
  /** For filesystems this tool reads (XFS, ext2/3/4, FAT): cleanly unmounted or not. */
  readonly clean?: CleanFact;
}

/** A filesystem's clean state; `clean` is null when it could not be read, `detail` says why. */
export interface CleanFact {
  readonly clean: boolean | null;
  readonly detail: string;
}

/** The qcow2 header's state bits (qemu-img info's "corrupt" and the dirty refcounts). */
export interface Qcow2Facts {
  readonly version: number;
  /** qemu found an inconsistency and marked the image corrupt; data may be wrong. */
  readonly corrupt: boolean;
  readonly dirty: boolean;
}

export interface ImageFacts {
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly fileSize: number;
  readonly qcow2?: Qcow2Facts;
  readonly partitionTable: string;
  readonly partitions: readonly PartitionSummary[];
  readonly rootPartition: number | null;
  readonly rootFilesystem: string;
  /** The root filesystem's clean state when the image has no partition table (else see partitions). */
  readonly rootClean?: CleanFact;
  readonly rootMismatch?: string;
  readonly osRelease: Readonly<Record<string, string>>;
  /** The SELinux label (security.selinux) of /etc/os-release, null when it has none. */
  readonly osReleaseLabel: string | null;
  readonly warnings: readonly string[];
}

export async function inspectImage(path: string, options: OpenRootOptions = {}): Promise<ImageFacts> {
  const root = await openImageRoot(path, options);
  try {
    return await describe(root);
  } finally {
    await root.close();
  }
}

export async function describe(root: OpenedRoot): Promise<ImageFacts> {
  let osRelease: Record<string, string> = {};
  const warnings = [...root.table.warnings];
  try {
    osRelease = parseOsRelease((await root.paths.readFile("/etc/os-release", 1024 * 1024)).toString("utf8"));
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    warnings.push(`cannot read /etc/os-release: ${e.message}`);
  }
  if (root.rootMismatch) warnings.push(root.rootMismatch);
  let osReleaseLabel: string | null = null;
  try {
    const label = await root.paths.getXattr("/etc/os-release", "security.selinux");
    if (label) osReleaseLabel = label.toString("utf8").replace(/\0$/, "");
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
  }
  const q = root.image.qcow2;
  if (q?.corrupt)
    warnings.push("the qcow2 image is marked corrupt (qemu found an inconsistency; data may be wrong)");
  const clean = new Map<number | null, CleanFact>();
  for (const f of root.partitions.filter((p) => READABLE.has(p.filesystem))) {
    clean.set(f.partition.number, await cleanFact(() => root.filesystem(f.partition.number)));
  }
  if (root.rootPartition === null) clean.set(null, await cleanFact(async () => root.fs));
  return {
    path: root.image.path,
    format: root.image.format,
    virtualSize: root.image.virtualSize,
    fileSize: root.image.file.size,
    ...(q ? { qcow2: { version: q.version, corrupt: q.corrupt, dirty: q.dirty } } : {}),
    partitionTable: root.table.kind,
    partitions: root.partitions.map((f) => ({
      number: f.partition.number,
      start: f.partition.start,
      size: f.partition.size,
      type: f.partition.typeName,
      ...(f.partition.typeGuid ? { typeGuid: f.partition.typeGuid } : {}),
      ...(f.partition.name ? { name: f.partition.name } : {}),
      filesystem: f.filesystem,
      ...(f.label !== undefined ? { label: f.label } : {}),
      ...(f.uuid !== undefined ? { uuid: f.uuid } : {}),
      root: f.partition.number === root.rootPartition,
      ...(clean.has(f.partition.number) ? { clean: clean.get(f.partition.number)! } : {}),
    })),
    rootPartition: root.rootPartition,
    rootFilesystem: root.fs.type,
    ...(clean.has(null) ? { rootClean: clean.get(null)! } : {}),
    ...(root.rootMismatch ? { rootMismatch: root.rootMismatch } : {}),
    osRelease,
    osReleaseLabel,
    warnings,
  };
}

const READABLE = new Set(["xfs", "ext4", "ext3", "ext2", "vfat"]);

async function cleanFact(open: () => Promise<Filesystem>): Promise<CleanFact> {
  try {
    return await (await open()).cleanState();
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    return { clean: null, detail: `cannot tell: ${e.message}` };
  }
}
