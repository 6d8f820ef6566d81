/** Recognises what a partition holds from its first bytes, and opens the filesystems we read. */
import type { ByteSource } from "../disk/source.js";
import { ImageFormatError } from "../errors.js";
import type { Filesystem } from "./types.js";

export type FilesystemKind = "xfs" | "ext4" | "ext3" | "ext2" | "vfat" | "swap" | "lvm2" | "unknown";

/** Enough bytes to see every signature we look for (swap's sits at the end of the first 4 KiB page). */
export const PROBE_BYTES = 8192;

export function detectFilesystem(head: Buffer): FilesystemKind {
  if (head.length >= 4 && head.toString("latin1", 0, 4) === "XFSB") return "xfs";
  if (head.length >= 1082 && head.readUInt16LE(1080) === 0xef53) {
    const compat = head.readUInt32LE(1024 + 0x5c);
    const incompat = head.readUInt32LE(1024 + 0x60);
    if (incompat & 0x40 /* extents */ || incompat & 0x80 /* 64bit */ || incompat & 0x200 /* flex_bg */)
      return "ext4";
    return compat & 0x4 /* has_journal */ ? "ext3" : "ext2";
  }
  if (head.length >= 4096 && head.toString("latin1", 4086, 4096).startsWith("SWAPSPACE2")) return "swap";
  if (
    head.length >= 1056 &&
    head.toString("latin1", 512, 520) === "LABELONE" &&
    head.toString("latin1", 536, 540) === "LVM2"
  ) {
    return "lvm2";
  }
  if (head.length >= 512 && head.readUInt16LE(510) === 0xaa55) {
    const fat = head.toString("latin1", 54, 62) + head.toString("latin1", 82, 90);
    if (/FAT/.test(fat)) return "vfat";
  }
  return "unknown";
}

export { fatIdentity } from "./fat/boot.js";

/** Opens an XFS, ext2/3/4 or FAT filesystem; other kinds are not readable. */
export async function openFilesystem(source: ByteSource): Promise<Filesystem> {
  const head = await source.read(0, Math.min(PROBE_BYTES, source.size));
  const kind = detectFilesystem(head);
  switch (kind) {
    case "xfs": {
      const { openXfs } = await import("./xfs/index.js");
      return openXfs(source);
    }
    case "ext4":
    case "ext3":
    case "ext2": {
      const { openExt4 } = await import("./ext4/index.js");
      return openExt4(source);
    }
    case "vfat": {
      const { openFat } = await import("./fat/index.js");
      return openFat(source);
    }
    default:
      throw new ImageFormatError(
        `cannot read a ${kind === "unknown" ? "unrecognised" : kind} filesystem (readable: xfs, ext2/3/4, vfat)`,
      );
  }
}
