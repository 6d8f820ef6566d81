/** Finds the partition table of a disk: GPT, MBR, or none (a bare filesystem). */
import { ImageFormatError } from "../errors.js";
import { hasGptSignature, readGpt } from "./gpt.js";
import { isProtectiveMbr, looksLikeMbr, readMbrPartitions } from "./mbr.js";
import { type Partition, type PartitionTable, SECTOR_SIZE } from "./partition-table.js";
import { type ByteSource, SliceSource } from "./source.js";

export async function readPartitionTable(disk: ByteSource): Promise<PartitionTable> {
  const warnings: string[] = [];
  const none: PartitionTable = { kind: "none", sectorSize: SECTOR_SIZE, partitions: [], warnings };
  if (disk.size < 2 * SECTOR_SIZE) return none;
  const sector0 = await disk.read(0, SECTOR_SIZE);
  let table: PartitionTable;
  if (isProtectiveMbr(sector0)) {
    table = await readGpt(disk, warnings);
  } else if (looksLikeMbr(sector0)) {
    if (await hasGptSignature(disk, 1)) {
      warnings.push("a GPT header is present but the MBR is not protective; using the MBR");
    }
    table = {
      kind: "mbr",
      sectorSize: SECTOR_SIZE,
      partitions: await readMbrPartitions(disk, sector0, warnings),
      warnings,
    };
  } else if (await hasGptSignature(disk, 1)) {
    warnings.push("the GPT has no protective MBR");
    table = await readGpt(disk, warnings);
  } else {
    return none;
  }
  checkOverlaps(table.partitions);
  return table;
}

/** The bytes of one partition, as a source of their own. */
export function partitionSource(disk: ByteSource, partition: Partition): ByteSource {
  return new SliceSource(disk, partition.start, partition.size, `partition ${partition.number}`);
}

/**
 * No two partitions may share a sector. Logical MBR partitions live inside their extended
 * partition, so they are compared among themselves only.
 */
function checkOverlaps(partitions: readonly Partition[]): void {
  const logical = partitions.filter((p) => p.mbrType !== undefined && p.number > 4);
  const primary = partitions.filter((p) => !logical.includes(p));
  for (const group of [primary, logical]) {
    const sorted = [...group].sort((a, b) => a.firstLba - b.firstLba || a.number - b.number);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      if (b.firstLba <= a.lastLba) {
        const [x, y] = a.number < b.number ? [a, b] : [b, a];
        throw new ImageFormatError(
          `partitions ${x.number} (sectors ${x.firstLba}-${x.lastLba}) and ${y.number} ` +
            `(sectors ${y.firstLba}-${y.lastLba}) overlap`,
        );
      }
    }
  }
}

export type { GptHeader, Partition, PartitionTable } from "./partition-table.js";
export { gptTypeName, mbrTypeName } from "./type-names.js";
