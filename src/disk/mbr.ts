/** Classic MBR partition tables: four primary entries, and logical partitions in an EBR chain. */
import { ImageFormatError } from "../errors.js";
import { type Partition, SECTOR_SIZE } from "./partition-table.js";
import type { ByteSource } from "./source.js";
import { isExtendedMbrType, mbrTypeName } from "./type-names.js";

export const MBR_PROTECTIVE_TYPE = 0xee;
/** Bound on the EBR chain, so that a looping or absurd chain ends. */
const MAX_LOGICAL = 128;

export interface MbrEntry {
  /** 0-3 */
  readonly slot: number;
  readonly status: number;
  readonly type: number;
  readonly startLba: number;
  readonly sectors: number;
}

/** The boot signature 0x55AA at bytes 510-511. */
export function hasBootSignature(sector: Buffer): boolean {
  return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
}

/** The four entries of an MBR or EBR sector, including empty ones. */
export function mbrEntries(sector: Buffer): MbrEntry[] {
  const entries: MbrEntry[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const at = 446 + slot * 16;
    entries.push({
      slot,
      status: sector[at]!,
      type: sector[at + 4]!,
      startLba: sector.readUInt32LE(at + 8),
      sectors: sector.readUInt32LE(at + 12),
    });
  }
  return entries;
}

function isUsed(e: MbrEntry): boolean {
  return e.type !== 0 && e.sectors !== 0;
}

/** A GPT protective MBR: signed, with an 0xEE entry. */
export function isProtectiveMbr(sector: Buffer): boolean {
  return hasBootSignature(sector) && mbrEntries(sector).some((e) => e.type === MBR_PROTECTIVE_TYPE);
}

/**
 * Whether sector 0 holds a plausible MBR partition table: signed, every status byte 0x00 or 0x80,
 * and at least one used entry that starts after sector 0. Filesystem boot sectors (FAT, NTFS) are
 * signed too but fail the other tests.
 */
export function looksLikeMbr(sector: Buffer): boolean {
  if (!hasBootSignature(sector)) return false;
  const entries = mbrEntries(sector);
  if (entries.some((e) => e.status !== 0 && e.status !== 0x80)) return false;
  const used = entries.filter(isUsed);
  return used.length > 0 && used.every((e) => e.startLba > 0);
}

function toPartition(number: number, e: MbrEntry, startLba: number): Partition {
  const typeName = mbrTypeName(e.type);
  return {
    number,
    start: startLba * SECTOR_SIZE,
    size: e.sectors * SECTOR_SIZE,
    firstLba: startLba,
    lastLba: startLba + e.sectors - 1,
    mbrType: e.type,
    typeName,
    bootable: e.status === 0x80,
  };
}

/** Primary partitions 1-4 (an extended partition is listed too) and logical partitions 5 and up. */
export async function readMbrPartitions(
  disk: ByteSource,
  sector0: Buffer,
  warnings: string[],
): Promise<Partition[]> {
  const totalSectors = Math.floor(disk.size / SECTOR_SIZE);
  const primaries: Partition[] = [];
  let extended: Partition | undefined;
  for (const e of mbrEntries(sector0)) {
    if (!isUsed(e)) continue;
    const p = toPartition(e.slot + 1, e, e.startLba);
    if (p.lastLba >= totalSectors) {
      throw new ImageFormatError(
        `MBR partition ${p.number} (sectors ${p.firstLba}-${p.lastLba}) extends past the end of the disk ` +
          `(${totalSectors} sectors)`,
      );
    }
    if (isExtendedMbrType(e.type)) {
      if (extended)
        warnings.push(`MBR partition ${p.number} is a second extended partition; ignoring its contents`);
      else extended = p;
    }
    primaries.push(p);
  }
  const logicals = extended ? await readLogicals(disk, extended, warnings) : [];
  return [...primaries, ...logicals];
}

async function readLogicals(disk: ByteSource, extended: Partition, warnings: string[]): Promise<Partition[]> {
  const logicals: Partition[] = [];
  const seen = new Set<number>();
  let ebr = extended.firstLba;
  while (true) {
    if (seen.has(ebr)) {
      warnings.push(
        `the EBR chain loops back to LBA ${ebr}; stopped after ${logicals.length} logical partitions`,
      );
      break;
    }
    if (seen.size >= MAX_LOGICAL) {
      warnings.push(`the EBR chain has more than ${MAX_LOGICAL} links; stopped there`);
      break;
    }
    seen.add(ebr);
    if (ebr < extended.firstLba || ebr > extended.lastLba) {
      warnings.push(`an EBR at LBA ${ebr} lies outside the extended partition; stopped there`);
      break;
    }
    const sector = await disk.read(ebr * SECTOR_SIZE, SECTOR_SIZE);
    if (!hasBootSignature(sector)) {
      // An extended partition with no logical partitions has an empty, unsigned first EBR.
      if (logicals.length > 0 || sector.some((b) => b !== 0)) {
        warnings.push(`the EBR at LBA ${ebr} has no boot signature; stopped there`);
      }
      break;
    }
    const [logical, link] = mbrEntries(sector);
    if (logical && isUsed(logical)) {
      const p = toPartition(5 + logicals.length, logical, ebr + logical.startLba);
      if (p.firstLba <= ebr || p.lastLba > extended.lastLba) {
        throw new ImageFormatError(
          `logical partition ${p.number} (sectors ${p.firstLba}-${p.lastLba}) lies outside its extended ` +
            `partition (sectors ${extended.firstLba}-${extended.lastLba})`,
        );
      }
      logicals.push(p);
    }
    if (!link || !isUsed(link) || !isExtendedMbrType(link.type)) break;
    ebr = extended.firstLba + link.startLba;
  }
  return logicals;
}
