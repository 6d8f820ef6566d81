/** The AlmaLinux cloud-image GPT layouts, in 512-byte sectors (pure arithmetic, no I/O). */
import { UsageError } from "../src/errors.js";
import type { ImageArch } from "./spec.js";

export const SECTOR = 512;
const MiB_SECTORS = (1024 * 1024) / SECTOR;
/** Backup GPT: 128 entries of 128 bytes (32 sectors) + the header sector. */
const BACKUP_GPT_SECTORS = 33;
const MIN_ROOT_BYTES = 512 * 1024 * 1024;

export type PartitionRole = "bios" | "esp" | "boot" | "root";

export interface PlannedPartition {
  number: number;
  name: string;
  /** sgdisk type code. */
  type: string;
  role: PartitionRole;
  firstSector: number;
  /** Inclusive, as sgdisk takes it. */
  lastSector: number;
}

export function partitionBytes(p: PlannedPartition): { start: number; size: number } {
  return { start: p.firstSector * SECTOR, size: (p.lastSector - p.firstSector + 1) * SECTOR };
}

/**
 * x86_64 (and x86_64_v2): p1 BIOS boot 1 MiB, p2 EFI System 200 MiB, p3 /boot 1 GiB, p4 root (rest).
 * aarch64: p1 EFI System 200 MiB, p2 /boot 1 GiB, p3 root. Starts are 1 MiB aligned; root runs to the
 * last usable sector.
 */
export function planLayout(arch: ImageArch, diskBytes: number): PlannedPartition[] {
  if (diskBytes % SECTOR !== 0) {
    throw new UsageError(`imagegen: disk size ${diskBytes} is not a multiple of ${SECTOR} bytes`);
  }
  const parts: [string, string, PartitionRole, number][] =
    arch === "aarch64"
      ? [
          ["EFI System Partition", "EF00", "esp", 200],
          ["boot", "8300", "boot", 1024],
        ]
      : [
          ["biosboot", "EF02", "bios", 1],
          ["EFI System Partition", "EF00", "esp", 200],
          ["boot", "8300", "boot", 1024],
        ];
  const lastUsable = diskBytes / SECTOR - BACKUP_GPT_SECTORS - 1;
  const out: PlannedPartition[] = [];
  let next = MiB_SECTORS;
  for (const [name, type, role, mib] of parts) {
    const size = mib * MiB_SECTORS;
    out.push({ number: out.length + 1, name, type, role, firstSector: next, lastSector: next + size - 1 });
    next += size;
  }
  const root = { number: out.length + 1, name: "root", type: "8300", role: "root" as const };
  const rootPart = { ...root, firstSector: next, lastSector: lastUsable };
  if (partitionBytes(rootPart).size < MIN_ROOT_BYTES) {
    const minimum = Math.ceil((next * SECTOR + MIN_ROOT_BYTES) / 2 ** 20) + 1;
    throw new UsageError(
      `imagegen: disk size too small for the ${arch} layout (valid: at least ${minimum}M)`,
    );
  }
  out.push(rootPart);
  return out;
}
