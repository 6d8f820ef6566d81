/**
 * What the boot test reads from the image before booting it, offline: its container format and virtual
 * size (for the overlay), the identity it carries (a baked machine-id or host keys), and its installed
 * package names (the offline side of packages-match, when verify's list is not given).
 */

import type { ContainerFormat } from "../disk/image.js";
import { openImage } from "../disk/image.js";
import { readPartitionTable } from "../disk/partitions.js";
import { CloudImagesError, UsageError } from "../errors.js";
import { openImageRoot } from "../inspect/root.js";
import { readImagePackages } from "../inspect/rpmdb.js";
import { hostKeyFingerprint } from "./checks.js";

export interface BootImageFacts {
  readonly format: ContainerFormat;
  readonly virtualSize: number;
  /** Non-empty, initialised content of /etc/machine-id in the image. */
  readonly machineId?: string;
  readonly hostKeyFingerprints: readonly string[];
  /** Installed package names, when the rpm database could be read. */
  readonly packageNames?: readonly string[];
  /** Why the root filesystem could not be read (the boot test still runs). */
  readonly unreadable?: string;
}

async function optional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof CloudImagesError) return undefined;
    throw e;
  }
}

/** Reads the facts; an image that is no disk image at all is a UsageError (exit 2). */
export async function readImageFacts(path: string, rootPartition?: number): Promise<BootImageFacts> {
  let root: Awaited<ReturnType<typeof openImageRoot>>;
  try {
    root = await openImageRoot(path, {
      ...(rootPartition !== undefined ? { expectedRootPartition: rootPartition } : {}),
      fallbackToExpected: true,
    });
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    return await containerOnly(path, e.message);
  }
  try {
    const machineId = await optional(async () =>
      (await root.paths.readFile("/etc/machine-id", 4096)).toString().trim(),
    );
    const keys = (await optional(() => root.paths.list("/etc/ssh"))) ?? [];
    const hostKeyFingerprints: string[] = [];
    for (const entry of keys) {
      if (!/^ssh_host_.*_key\.pub$/.test(entry.name) || entry.stat.type !== "file") continue;
      const text = await optional(async () =>
        (await root.paths.readFile(`/etc/ssh/${entry.name}`, 65536)).toString(),
      );
      const fingerprint = text ? hostKeyFingerprint(text) : undefined;
      if (fingerprint) hostKeyFingerprints.push(fingerprint);
    }
    const packages = await optional(() => readImagePackages(root));
    return {
      format: root.image.format,
      virtualSize: root.image.virtualSize,
      ...(machineId && machineId !== "uninitialized" ? { machineId } : {}),
      hostKeyFingerprints,
      ...(packages ? { packageNames: packages.packages.map((p) => p.name) } : {}),
    };
  } finally {
    await root.close();
  }
}

/** An image whose root filesystem we cannot read may still boot: it must at least hold a partition table. */
async function containerOnly(path: string, why: string): Promise<BootImageFacts> {
  let image: Awaited<ReturnType<typeof openImage>>;
  try {
    image = await openImage(path);
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    throw new UsageError(`${path} is not a disk image: ${e.message}`);
  }
  try {
    const table = await optional(() => readPartitionTable(image.source));
    if (!table || table.kind === "none") {
      throw new UsageError(`${path} is not a disk image (no partition table and no filesystem: ${why})`);
    }
    return { format: image.format, virtualSize: image.virtualSize, hostKeyFingerprints: [], unreadable: why };
  } finally {
    await image.close();
  }
}
