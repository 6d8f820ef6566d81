/**
 * Opens a disk image down to its OS root filesystem: container → partition table → filesystems,
 * finding the root as the partition that holds /etc/os-release. The catalog's partition number is
 * only a hint (tried first); a different finding is reported, not hidden.
 */
import { type DiskImage, openImage } from "../disk/image.js";
import {
  type Partition,
  type PartitionTable,
  partitionSource,
  readPartitionTable,
} from "../disk/partitions.js";
import type { ByteSource } from "../disk/source.js";
import { CloudImagesError, ImageFormatError, UsageError } from "../errors.js";
import { PathResolver } from "../fs/path.js";
import {
  detectFilesystem,
  type FilesystemKind,
  fatIdentity,
  openFilesystem,
  PROBE_BYTES,
} from "../fs/probe.js";
import type { Filesystem } from "../fs/types.js";
import { timedAsync } from "../phases.js";

export interface PartitionFacts {
  readonly partition: Partition;
  readonly filesystem: FilesystemKind;
  /** Label and UUID of filesystems we can read, and of FAT ones from their boot sector. */
  readonly label?: string;
  readonly uuid?: string;
}

export interface OpenedRoot {
  readonly image: DiskImage;
  readonly table: PartitionTable;
  readonly partitions: readonly PartitionFacts[];
  /** The partition number of the root filesystem; null when the image is a bare filesystem. */
  readonly rootPartition: number | null;
  readonly fs: Filesystem;
  readonly paths: PathResolver;
  /** Set when the root was found somewhere other than the expected partition. */
  readonly rootMismatch?: string;
  /**
   * How the root was chosen: the partition holding /etc/os-release (`marker`), `--partition`
   * (`option`), the expected partition because none holds /etc/os-release (`fallback`), or the
   * whole disk when there is no partition table (`whole-disk`).
   */
  readonly rootFoundBy: "marker" | "option" | "fallback" | "whole-disk";
  /**
   * The filesystem of partition `partition` (any kind openFilesystem reads: XFS, ext2/3/4, FAT),
   * opened on first use and kept; for an image without a partition table, `null` names the root.
   */
  filesystem(partition: number | null): Promise<Filesystem>;
  close(): Promise<void>;
}

export interface OpenRootOptions {
  /** Use this partition as the root, without looking for /etc/os-release. */
  readonly partition?: number;
  /** The catalog's root partition, tried first. */
  readonly expectedRootPartition?: number;
  /**
   * When no partition holds /etc/os-release, use the expected partition if it has a readable
   * filesystem (verification then reports the missing os-release instead of failing to open).
   */
  readonly fallbackToExpected?: boolean;
}

const ROOT_MARKER = "/etc/os-release";

export function openImageRoot(path: string, options: OpenRootOptions = {}): Promise<OpenedRoot> {
  return timedAsync("open", async () => {
    const image = await openImage(path);
    try {
      return await findRoot(image, options);
    } catch (e) {
      await image.close();
      throw e;
    }
  });
}

async function findRoot(image: DiskImage, options: OpenRootOptions): Promise<OpenedRoot> {
  const table = await readPartitionTable(image.source);
  const close = () => image.close();
  if (table.kind === "none") {
    if (options.partition !== undefined) {
      throw new UsageError(`${image.path} has no partition table; --partition cannot be used`);
    }
    const fs = await openFilesystem(image.source);
    return {
      image,
      table,
      partitions: [],
      rootPartition: null,
      fs,
      paths: new PathResolver(fs),
      rootFoundBy: "whole-disk",
      filesystem: async (n) => {
        if (n !== null) throw new UsageError(`${image.path} has no partition table, so no partition ${n}`);
        return fs;
      },
      close,
    };
  }

  const partitions: PartitionFacts[] = [];
  const sources = new Map<number, ByteSource>();
  for (const partition of table.partitions) {
    const source = partitionSource(image.source, partition);
    sources.set(partition.number, source);
    const head = await source.read(0, Math.min(PROBE_BYTES, source.size));
    const filesystem = detectFilesystem(head);
    partitions.push({ partition, filesystem, ...(filesystem === "vfat" ? fatIdentity(head) : {}) });
  }
  const readable = (f: PartitionFacts) => ["xfs", "ext4", "ext3", "ext2"].includes(f.filesystem);
  const opened = new Map<number, Filesystem>();
  const open = async (n: number) => {
    const source = sources.get(n);
    if (!source) {
      const numbers = partitions.map((f) => f.partition.number).join(", ");
      throw new UsageError(`partition ${n} does not exist in ${image.path} (partitions: ${numbers})`);
    }
    let fs = opened.get(n);
    if (!fs) {
      fs = await openFilesystem(source);
      opened.set(n, fs);
    }
    return fs;
  };

  let rootPartition: number | undefined;
  let rootFoundBy: OpenedRoot["rootFoundBy"] = "marker";
  if (options.partition !== undefined) {
    const chosen = partitions.find((f) => f.partition.number === options.partition);
    if (!chosen) {
      const numbers = partitions.map((f) => f.partition.number).join(", ");
      throw new UsageError(
        `partition ${options.partition} does not exist in ${image.path} (partitions: ${numbers})`,
      );
    }
    rootPartition = options.partition;
    rootFoundBy = "option";
  } else {
    const order = [...partitions].sort(
      (a, b) =>
        Number(b.partition.number === options.expectedRootPartition) -
        Number(a.partition.number === options.expectedRootPartition),
    );
    for (const facts of order.filter(readable)) {
      try {
        const fs = await open(facts.partition.number);
        await new PathResolver(fs).resolve(ROOT_MARKER);
        rootPartition = facts.partition.number;
        break;
      } catch (e) {
        if (!(e instanceof CloudImagesError)) throw e;
      }
    }
    const expected = partitions.find((f) => f.partition.number === options.expectedRootPartition);
    if (rootPartition === undefined && options.fallbackToExpected && expected && readable(expected)) {
      try {
        await open(expected.partition.number);
        rootPartition = expected.partition.number;
        rootFoundBy = "fallback";
      } catch (e) {
        if (!(e instanceof CloudImagesError)) throw e;
      }
    }
    if (rootPartition === undefined) {
      throw new ImageFormatError(
        `no partition of ${image.path} holds ${ROOT_MARKER} (no OS root filesystem found)`,
      );
    }
  }

  const fs = await open(rootPartition);
  // Label and UUID for every readable partition, for inspect; failures just leave them out.
  const described: PartitionFacts[] = [];
  for (const facts of partitions) {
    if (!readable(facts)) {
      described.push(facts);
      continue;
    }
    try {
      const pfs = await open(facts.partition.number);
      described.push({ ...facts, label: pfs.label, uuid: pfs.uuid });
    } catch {
      described.push(facts);
    }
  }
  const expected = options.expectedRootPartition;
  const rootMismatch =
    expected !== undefined && expected !== rootPartition
      ? `root filesystem found on partition ${rootPartition}, expected partition ${expected}`
      : undefined;
  return {
    image,
    table,
    partitions: described,
    rootPartition,
    fs,
    paths: new PathResolver(fs),
    ...(rootMismatch ? { rootMismatch } : {}),
    rootFoundBy,
    filesystem: async (n) => {
      if (n === null) throw new UsageError(`${image.path} has a partition table: name a partition`);
      return open(n);
    },
    close,
  };
}
