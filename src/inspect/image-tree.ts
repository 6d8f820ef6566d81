/**
 * Every filesystem of an image, mounted where the image's /etc/fstab says: the root filesystem, then
 * each fstab entry whose device is one of the image's partitions (by UUID=, LABEL=, PARTUUID=,
 * PARTLABEL= or /dev/disk/by-*), so paths such as /boot/loader/entries or /boot/efi/EFI read from the
 * partition the booted system would see there.
 */
import { CloudImagesError } from "../errors.js";
import { MountedTree, normalize, type TreeMount } from "../fs/mounts.js";
import type { FilesystemKind } from "../fs/probe.js";
import type { Observed } from "./checks.js";
import { type Fstab, type FstabEntry, parseFstab } from "./fstab.js";
import type { OpenedRoot } from "./root.js";

export const FSTAB_FILE = "/etc/fstab";

/** A filesystem-bearing volume of the image: a partition, or the whole disk when it has no table. */
export interface Volume {
  /** Null for the whole disk. */
  readonly partition: number | null;
  readonly filesystem: FilesystemKind;
  readonly uuid?: string;
  readonly label?: string;
  readonly partuuid?: string;
  readonly partlabel?: string;
}

export interface ImageMount {
  readonly entry: FstabEntry;
  /** The volumes the entry's device names (exactly one when it can be mounted). */
  readonly volumes: readonly Volume[];
  /** Mounted into the tree; false when the device is missing, ambiguous or its filesystem unreadable. */
  readonly mounted: boolean;
  readonly reason?: string;
}

export interface ImageTree {
  readonly tree: MountedTree;
  readonly volumes: readonly Volume[];
  /** The root's volume. */
  readonly rootVolume: Volume;
  /** The image's fstab, or why it could not be read. */
  readonly fstab: Observed<Fstab>;
  /** One per fstab entry other than `/`, swap and pseudo filesystems. */
  readonly mounts: readonly ImageMount[];
}

const MOUNTABLE = new Set(["xfs", "ext4", "ext3", "ext2", "vfat"]);
const MAX_FSTAB = 1024 * 1024;

export function imageVolumes(root: OpenedRoot): Volume[] {
  if (root.rootPartition === null) {
    return [{ partition: null, filesystem: root.fs.type, uuid: root.fs.uuid, label: root.fs.label }];
  }
  return root.partitions.map((f) => ({
    partition: f.partition.number,
    filesystem: f.filesystem,
    ...(f.uuid !== undefined ? { uuid: f.uuid } : {}),
    ...(f.label !== undefined && f.label !== "" ? { label: f.label } : {}),
    ...(f.partition.uniqueGuid !== undefined ? { partuuid: f.partition.uniqueGuid } : {}),
    ...(f.partition.name !== undefined && f.partition.name !== "" ? { partlabel: f.partition.name } : {}),
  }));
}

/** The volumes an fstab device names; device paths (/dev/vda4) cannot be matched offline: none. */
export function volumesNamed(source: FstabEntry["source"], volumes: readonly Volume[]): Volume[] {
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  switch (source.kind) {
    case "uuid":
      return volumes.filter((v) => same(v.uuid, source.value));
    case "partuuid":
      return volumes.filter((v) => same(v.partuuid, source.value));
    case "label":
      return volumes.filter((v) => v.label === source.value);
    case "partlabel":
      return volumes.filter((v) => v.partlabel === source.value);
    default:
      return [];
  }
}

/** Opens the tree of an opened root: its fstab's mounts, each filesystem opened at most once. */
export async function openImageTree(root: OpenedRoot): Promise<ImageTree> {
  const volumes = imageVolumes(root);
  const rootVolume = volumes.find((v) => v.partition === root.rootPartition) ?? volumes[0]!;
  let fstab: Observed<Fstab>;
  try {
    const text = (await root.paths.readFile(FSTAB_FILE, MAX_FSTAB)).toString("utf8");
    fstab = { ok: true, value: parseFstab(text) };
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    fstab = { ok: false, error: e.message };
  }
  const mounts: ImageMount[] = [];
  const treeMounts: TreeMount[] = [];
  for (const entry of fstab.ok ? fstab.value.entries : []) {
    if (!entry.mountPoint.startsWith("/") || normalize(entry.mountPoint) === "/") continue;
    if (!MOUNTABLE.has(entry.fsType) || entry.options.includes("noauto")) continue;
    const named = volumesNamed(entry.source, volumes);
    const mount = await mountOne(root, entry, named);
    mounts.push(mount.image);
    if (mount.tree) treeMounts.push(mount.tree);
  }
  return { tree: new MountedTree(root.fs, treeMounts), volumes, rootVolume, fstab, mounts };
}

async function mountOne(
  root: OpenedRoot,
  entry: FstabEntry,
  named: Volume[],
): Promise<{ image: ImageMount; tree?: TreeMount }> {
  const path = normalize(entry.mountPoint);
  const unmounted = (reason: string) => ({
    image: { entry, volumes: named, mounted: false, reason },
    tree: { path, fs: null, reason },
  });
  if (named.length === 0) return unmounted(`no filesystem of the image is ${entry.spec}`);
  if (named.length > 1) {
    const which = named.map((v) => `partition ${v.partition}`).join(", ");
    return unmounted(`${entry.spec} names more than one filesystem (${which})`);
  }
  const volume = named[0]!;
  if (volume.partition === null || volume.partition === root.rootPartition) {
    return unmounted(`${entry.spec} is the root filesystem itself`);
  }
  try {
    const fs = await root.filesystem(volume.partition);
    return { image: { entry, volumes: named, mounted: true }, tree: { path, fs } };
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    return unmounted(e.message);
  }
}
