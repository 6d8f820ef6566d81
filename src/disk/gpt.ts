/** GUID Partition Table (UEFI specification, chapter 5): headers, entry arrays, CRC checks. */
import { ImageFormatError } from "../errors.js";
import { crc32 } from "./crc32.js";
import { type GptHeader, type Partition, type PartitionTable, SECTOR_SIZE } from "./partition-table.js";
import type { ByteSource } from "./source.js";
import { gptTypeName } from "./type-names.js";

const SIGNATURE = Buffer.from("EFI PART", "latin1");
const MIN_HEADER_SIZE = 92;
const MIN_ENTRY_SIZE = 128;
/** 8192 entries of 128 bytes; sgdisk writes 128 entries (16 KiB). */
const MAX_ENTRY_ARRAY_BYTES = 1024 * 1024;

interface LoadedHeader {
  header: GptHeader;
  entries?: Buffer;
}

/** "EFI PART" at the start of the sector? */
export async function hasGptSignature(disk: ByteSource, lba: number): Promise<boolean> {
  if ((lba + 1) * SECTOR_SIZE > disk.size) return false;
  return (await disk.read(lba * SECTOR_SIZE, 8)).equals(SIGNATURE);
}

/** The GPT header at `lba` with its CRC checks, or undefined when there is no signature there. */
export async function readGptHeader(disk: ByteSource, lba: number): Promise<GptHeader | undefined> {
  return (await loadHeader(disk, lba))?.header;
}

/** Mixed-endian GUID as text (the first three fields little-endian), upper case. */
export function formatGuid(b: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const bytes = Array.from(b.subarray(from, to));
    if (reverse) bytes.reverse();
    return bytes.map((x) => x.toString(16).padStart(2, "0")).join("");
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)]
    .join("-")
    .toUpperCase();
}

/**
 * Reads the GPT, preferring the primary header at LBA 1 and falling back to the backup (at the
 * last LBA, or where the primary says it is) with a warning. Both unusable → ImageFormatError.
 */
export async function readGpt(disk: ByteSource, warnings: string[]): Promise<PartitionTable> {
  const totalSectors = Math.floor(disk.size / SECTOR_SIZE);
  const primary = await loadHeader(disk, 1);
  let used: LoadedHeader | undefined;
  let backup: LoadedHeader | undefined;
  if (primary && !primary.header.problem) {
    used = primary;
    const backupLba = primary.header.backupLba;
    backup = backupLba < totalSectors && backupLba !== 1 ? await loadHeader(disk, backupLba) : undefined;
    if (!backup) warnings.push(`no backup GPT header at LBA ${backupLba}`);
    else if (backup.header.problem) {
      warnings.push(`the backup GPT header at LBA ${backupLba} is damaged (${backup.header.problem})`);
    }
  } else {
    const candidates = [totalSectors - 1];
    const alt = primary?.header.backupLba;
    if (alt !== undefined && alt > 1 && alt < totalSectors && alt !== totalSectors - 1) candidates.push(alt);
    const problems: string[] = [];
    for (const lba of candidates) {
      const b = lba > 1 ? await loadHeader(disk, lba) : undefined;
      if (b && !b.header.problem) {
        backup = b;
        break;
      }
      problems.push(b ? `at LBA ${lba}: ${b.header.problem}` : `none at LBA ${lba}`);
      backup ??= b;
    }
    const why = primary ? primary.header.problem : "no signature at LBA 1";
    if (!backup || backup.header.problem) {
      throw new ImageFormatError(
        `GPT: the primary header is damaged (${why}) and so is the backup (${problems.join("; ")})`,
      );
    }
    used = backup;
    warnings.push(
      `the primary GPT header is damaged (${why}); using the backup header at LBA ${backup.header.lba}`,
    );
  }
  const h = used.header;
  return {
    kind: "gpt",
    sectorSize: SECTOR_SIZE,
    diskGuid: h.diskGuid,
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    partitions: parseEntries(h, used.entries!),
    warnings,
    gpt: {
      ...(primary ? { primary: primary.header } : {}),
      ...(backup ? { backup: backup.header } : {}),
      used: used === primary ? "primary" : "backup",
    },
  };
}

async function loadHeader(disk: ByteSource, lba: number): Promise<LoadedHeader | undefined> {
  if (!(await hasGptSignature(disk, lba))) return undefined;
  const totalSectors = Math.floor(disk.size / SECTOR_SIZE);
  const s = await disk.read(lba * SECTOR_SIZE, SECTOR_SIZE);
  const headerSize = s.readUInt32LE(12);
  const headerCrc32 = s.readUInt32LE(16);
  let headerCrcValid = false;
  if (headerSize >= MIN_HEADER_SIZE && headerSize <= SECTOR_SIZE) {
    const copy = Buffer.from(s.subarray(0, headerSize));
    copy.writeUInt32LE(0, 16);
    headerCrcValid = crc32(copy) === headerCrc32;
  }
  const lbaField = (at: number): number => {
    const v = s.readBigUInt64LE(at);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const fields = {
    lba,
    revision: s.readUInt32LE(8),
    headerSize,
    headerCrc32,
    headerCrcValid,
    currentLba: lbaField(24),
    backupLba: lbaField(32),
    firstUsableLba: lbaField(40),
    lastUsableLba: lbaField(48),
    diskGuid: formatGuid(s.subarray(56, 72)),
    entriesLba: lbaField(72),
    entryCount: s.readUInt32LE(80),
    entrySize: s.readUInt32LE(84),
    entriesCrc32: s.readUInt32LE(88),
  };
  const arrayBytes = fields.entryCount * fields.entrySize;
  const arraySectors = Math.ceil(arrayBytes / SECTOR_SIZE);
  const arrayEnd = fields.entriesLba + arraySectors - 1;
  let problem: string | undefined;
  if (headerSize < MIN_HEADER_SIZE || headerSize > SECTOR_SIZE)
    problem = `header size ${headerSize} is invalid`;
  else if (!headerCrcValid) problem = "header CRC32 mismatch";
  else if (fields.currentLba !== lba) problem = `the header says it is at LBA ${fields.currentLba}`;
  else if (
    fields.firstUsableLba > fields.lastUsableLba + 1 ||
    fields.firstUsableLba < 2 ||
    fields.lastUsableLba >= totalSectors
  ) {
    problem =
      `the usable range ${fields.firstUsableLba}-${fields.lastUsableLba} does not fit a disk of ` +
      `${totalSectors} sectors (truncated image?)`;
  } else if (
    fields.entrySize < MIN_ENTRY_SIZE ||
    fields.entrySize % 8 !== 0 ||
    arrayBytes > MAX_ENTRY_ARRAY_BYTES
  ) {
    problem = `the partition entry array (${fields.entryCount} entries of ${fields.entrySize} bytes) is invalid`;
  } else if (
    fields.entriesLba < 2 ||
    arrayEnd >= totalSectors ||
    (arraySectors > 0 && fields.entriesLba <= lba && lba <= arrayEnd) ||
    (arraySectors > 0 && fields.entriesLba <= fields.lastUsableLba && arrayEnd >= fields.firstUsableLba)
  ) {
    problem = `the partition entry array at LBA ${fields.entriesLba} overlaps the header, the data area or the disk end`;
  }
  let entries: Buffer | undefined;
  let entriesCrcValid = false;
  if (!problem) {
    entries = await disk.read(fields.entriesLba * SECTOR_SIZE, arrayBytes);
    entriesCrcValid = crc32(entries) === fields.entriesCrc32;
    if (!entriesCrcValid) problem = "partition entry array CRC32 mismatch";
  }
  const header: GptHeader = { ...fields, entriesCrcValid, ...(problem ? { problem } : {}) };
  return { header, ...(problem ? {} : { entries }) };
}

function parseEntries(h: GptHeader, array: Buffer): Partition[] {
  const partitions: Partition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const e = array.subarray(i * h.entrySize, (i + 1) * h.entrySize);
    const type = e.subarray(0, 16);
    if (type.every((b) => b === 0)) continue;
    const number = i + 1;
    const first = e.readBigUInt64LE(32);
    const last = e.readBigUInt64LE(40);
    if (first > last || first < BigInt(h.firstUsableLba) || last > BigInt(h.lastUsableLba)) {
      throw new ImageFormatError(
        `GPT partition ${number} (sectors ${first}-${last}) lies outside the usable range ` +
          `${h.firstUsableLba}-${h.lastUsableLba}`,
      );
    }
    const firstLba = Number(first);
    const lastLba = Number(last);
    const typeGuid = formatGuid(type);
    const typeName = gptTypeName(typeGuid);
    const nameBytes = e.subarray(56, 128);
    let nameEnd = 0;
    while (nameEnd + 1 < nameBytes.length && (nameBytes[nameEnd] !== 0 || nameBytes[nameEnd + 1] !== 0)) {
      nameEnd += 2;
    }
    partitions.push({
      number,
      start: firstLba * SECTOR_SIZE,
      size: (lastLba - firstLba + 1) * SECTOR_SIZE,
      firstLba,
      lastLba,
      typeGuid,
      typeName,
      uniqueGuid: formatGuid(e.subarray(16, 32)),
      name: nameBytes.subarray(0, nameEnd).toString("utf16le"),
      attributes: e.readBigUInt64LE(48).toString(16).toUpperCase().padStart(16, "0"),
    });
  }
  return partitions;
}
