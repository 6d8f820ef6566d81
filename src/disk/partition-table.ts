/** The shape of a partition table as read from a disk (GPT, MBR, or none). */

export const SECTOR_SIZE = 512;

export interface Partition {
  /** 1-based: the GPT entry index + 1, or the MBR slot (1-4) and 5+ for logical partitions. */
  readonly number: number;
  /** Offset of the first byte on the disk. */
  readonly start: number;
  /** Length in bytes. */
  readonly size: number;
  readonly firstLba: number;
  /** Inclusive. */
  readonly lastLba: number;
  /** GPT: the partition type GUID, upper case. */
  readonly typeGuid?: string;
  /** GPT: sgdisk's name for the type; MBR: fdisk's name; "Unknown" when not in our list. */
  readonly typeName: string;
  /** GPT: the partition's own GUID, upper case. */
  readonly uniqueGuid?: string;
  /** GPT: the partition name (may be empty). */
  readonly name?: string;
  /** GPT: the 64 attribute bits as 16 hex digits (sgdisk's "Attribute flags"). */
  readonly attributes?: string;
  /** MBR: the type byte. */
  readonly mbrType?: number;
  /** MBR: the active (boot) flag. */
  readonly bootable?: boolean;
}

/** One GPT header as found on the disk. */
export interface GptHeader {
  /** Where it was read. */
  readonly lba: number;
  readonly revision: number;
  readonly headerSize: number;
  readonly headerCrc32: number;
  readonly headerCrcValid: boolean;
  readonly currentLba: number;
  readonly backupLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc32: number;
  /** False also when the entry array could not be read. */
  readonly entriesCrcValid: boolean;
  /** Why this header cannot be used; absent when it is sound. */
  readonly problem?: string;
}

export interface PartitionTable {
  readonly kind: "gpt" | "mbr" | "none";
  readonly sectorSize: 512;
  /** GPT only. */
  readonly diskGuid?: string;
  readonly firstUsableLba?: number;
  readonly lastUsableLba?: number;
  readonly partitions: readonly Partition[];
  /** Non-fatal findings, such as a damaged primary GPT header that the backup replaced. */
  readonly warnings: readonly string[];
  /** GPT only: both headers (absent where no "EFI PART" signature was found) and which one was used. */
  readonly gpt?: {
    readonly primary?: GptHeader;
    readonly backup?: GptHeader;
    readonly used: "primary" | "backup";
  };
}
