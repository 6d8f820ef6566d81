/** The XFS superblock (sector 0 of the filesystem): geometry and feature flags, validated. */
import { ImageFormatError } from "../../errors.js";
import { xfsCrcOk } from "../crc32c.js";

const XFS_SB_MAGIC = 0x58465342; // "XFSB"

// sb_versionnum bits
const VERSION_NUMBITS = 0x000f;
const VERSION_SHAREDBIT = 0x0200;
const VERSION_DIRV2BIT = 0x2000;
const VERSION_MOREBITSBIT = 0x8000;

// sb_features2 bits
const VERSION2_LAZYSBCOUNT = 0x02;
const VERSION2_ATTR2 = 0x08;
const VERSION2_PARENT = 0x10;
const VERSION2_PROJID32 = 0x80;
const VERSION2_CRC = 0x100;
const VERSION2_FTYPE = 0x200;
const V4_FEATURES2_OK =
  VERSION2_LAZYSBCOUNT | VERSION2_ATTR2 | VERSION2_PARENT | VERSION2_PROJID32 | VERSION2_FTYPE;

/** sb_features_incompat bits (v5). */
export const INCOMPAT = {
  FTYPE: 1 << 0,
  SPINODES: 1 << 1,
  META_UUID: 1 << 2,
  BIGTIME: 1 << 3,
  NEEDSREPAIR: 1 << 4,
  NREXT64: 1 << 5,
  EXCHRANGE: 1 << 6,
  PARENT: 1 << 7,
  METADIR: 1 << 8,
} as const;

/**
 * Incompatible features a reader of directories, inodes and data forks can safely ignore or handles:
 * sparse inode chunks, metadata UUIDs, exchange-range and metadata directories change only what we do
 * not read (inode btrees, log, quota/realtime metadata); parent pointers live in the attribute fork.
 */
const INCOMPAT_READABLE =
  INCOMPAT.FTYPE |
  INCOMPAT.SPINODES |
  INCOMPAT.META_UUID |
  INCOMPAT.BIGTIME |
  INCOMPAT.NREXT64 |
  INCOMPAT.EXCHRANGE |
  INCOMPAT.PARENT |
  INCOMPAT.METADIR;

/** Byte offset of sb_crc. */
export const SB_CRC_OFFSET = 224;
/** Bytes of the superblock that this reader looks at (v5 fields end at 264). */
export const SB_MIN_BYTES = 512;

export interface XfsSuperblock {
  /** 4 (crc=0) or 5 (crc=1, metadata checksums and self-describing blocks). */
  readonly version: 4 | 5;
  readonly blockSize: number;
  readonly blockLog: number;
  readonly sectSize: number;
  /** Data blocks in the filesystem. */
  readonly dBlocks: number;
  readonly rBlocks: number;
  readonly agBlocks: number;
  readonly agBlkLog: number;
  readonly agCount: number;
  readonly inodeSize: number;
  readonly inodeLog: number;
  readonly inodesPerBlockLog: number;
  readonly rootIno: number;
  /** Directory block size in bytes (blockSize << sb_dirblklog). */
  readonly dirBlockSize: number;
  /** Directory entries carry a file-type byte. */
  readonly hasFtype: boolean;
  readonly label: string;
  readonly uuid: string;
  /** The UUID stamped into v5 metadata block headers (sb_meta_uuid or sb_uuid). */
  readonly metaUuid: Buffer;
  readonly featuresIncompat: number;
  readonly featuresRoCompat: number;
  /** The internal log: first filesystem block (0 when the log is on an external device) and length. */
  readonly logStart: number;
  readonly logBlocks: number;
  /** sb_uuid as stored: v2 log record headers carry it. */
  readonly uuidBytes: Buffer;
  /** v5: the log sequence number (cycle, block) of the superblock's last write; 0 on v4. */
  readonly lsnCycle: number;
}

/** True when `firstSector` starts with an XFS superblock (magic and a plausible version). */
export function isXfs(firstSector: Buffer): boolean {
  if (firstSector.length < 104) return false;
  if (firstSector.readUInt32BE(0) !== XFS_SB_MAGIC) return false;
  const v = firstSector.readUInt16BE(100) & VERSION_NUMBITS;
  return v === 4 || v === 5;
}

function log2Exact(n: number): number {
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) return -1;
  return Math.log2(n);
}

function readU64(buf: Buffer, off: number, what: string): number {
  const v = buf.readBigUInt64BE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ImageFormatError(`xfs superblock: ${what} ${v} is too large`);
  return Number(v);
}

function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function bad(what: string): never {
  throw new ImageFormatError(`xfs superblock: ${what}`);
}

/**
 * Parses and validates the primary superblock. `buf` holds at least the first sector (sb_sectsize
 * bytes for a v5 checksum; pass 512 first, then re-read if sectSize is larger).
 */
export function parseSuperblock(buf: Buffer): XfsSuperblock {
  if (buf.length < SB_MIN_BYTES) bad(`need ${SB_MIN_BYTES} bytes, got ${buf.length}`);
  const magic = buf.readUInt32BE(0);
  if (magic !== XFS_SB_MAGIC) bad(`bad magic 0x${magic.toString(16)} (expected 0x58465342 "XFSB")`);

  const versionnum = buf.readUInt16BE(100);
  const version = versionnum & VERSION_NUMBITS;
  if (version !== 4 && version !== 5) bad(`unsupported version ${version} (readable: 4, 5)`);
  const features2 = buf.readUInt32BE(200);
  const incompat = version === 5 ? buf.readUInt32BE(216) : 0;
  const roCompat = version === 5 ? buf.readUInt32BE(212) : 0;

  const sectSize = buf.readUInt16BE(102);
  const sectLog = log2Exact(sectSize);
  if (sectLog < 9 || sectLog > 15 || buf[121] !== sectLog) bad(`bad sector size ${sectSize}`);

  if (version === 5) {
    if (!(features2 & VERSION2_CRC)) bad("version 5 without the CRC feature bit");
    if (buf.length < sectSize) bad(`need the whole ${sectSize}-byte sector to check its CRC`);
    if (!xfsCrcOk(buf.subarray(0, sectSize), SB_CRC_OFFSET)) bad("checksum mismatch");
    if (incompat & INCOMPAT.NEEDSREPAIR) {
      throw new ImageFormatError("xfs: the filesystem is marked as needing xfs_repair; refusing to read it");
    }
    const unknown = incompat & ~INCOMPAT_READABLE;
    if (unknown) {
      throw new ImageFormatError(
        `xfs: unsupported incompatible feature bits 0x${unknown.toString(16)} (readable: ftype, sparse inodes, meta_uuid, bigtime, nrext64, exchange-range, parent, metadir)`,
      );
    }
  } else {
    if (!(versionnum & VERSION_DIRV2BIT)) bad("version 1 directories are not supported");
    if (versionnum & VERSION_SHAREDBIT) bad("the shared-volume feature is not supported");
    if (versionnum & VERSION_MOREBITSBIT && features2 & ~V4_FEATURES2_OK) {
      bad(`unsupported v4 feature bits 0x${(features2 & ~V4_FEATURES2_OK).toString(16)}`);
    }
  }
  if (buf[126] !== 0) bad("mkfs did not finish (sb_inprogress is set)");

  const blockSize = buf.readUInt32BE(4);
  const blockLog = log2Exact(blockSize);
  if (blockLog < 9 || blockLog > 16 || buf[120] !== blockLog) bad(`bad block size ${blockSize}`);
  if (version === 5 && blockSize < 1024) bad(`block size ${blockSize} is below the v5 minimum of 1024`);

  const inodeSize = buf.readUInt16BE(104);
  const inodeLog = log2Exact(inodeSize);
  if (inodeLog < 8 || inodeLog > 11 || buf[122] !== inodeLog) bad(`bad inode size ${inodeSize}`);
  if (version === 5 && inodeSize < 512) bad(`inode size ${inodeSize} is below the v5 minimum of 512`);
  if (inodeSize > blockSize) bad(`inode size ${inodeSize} exceeds the block size ${blockSize}`);
  const inopblock = buf.readUInt16BE(106);
  if (inopblock !== blockSize / inodeSize || buf[123] !== blockLog - inodeLog) {
    bad(`inodes per block ${inopblock} does not match ${blockSize}/${inodeSize}`);
  }

  const agBlocks = buf.readUInt32BE(84);
  const agCount = buf.readUInt32BE(88);
  const agBlkLog = buf[124]!;
  if (agBlocks < 64) bad(`allocation group of ${agBlocks} blocks is too small`);
  if (agCount < 1) bad("no allocation groups");
  if (agBlkLog !== Math.ceil(Math.log2(agBlocks)) || agBlkLog > 31) {
    bad(`sb_agblklog ${agBlkLog} does not match ${agBlocks} blocks per allocation group`);
  }
  if (agBlkLog + blockLog - inodeLog > 32) bad("inode numbers would not fit in 32 bits within an AG");
  const dBlocks = readU64(buf, 8, "dblocks");
  if (dBlocks > agCount * agBlocks || dBlocks <= (agCount - 1) * agBlocks) {
    bad(`dblocks ${dBlocks} does not fit ${agCount} allocation groups of ${agBlocks} blocks`);
  }
  if (dBlocks * blockSize > Number.MAX_SAFE_INTEGER) bad("filesystem too large");

  const dirBlkLog = buf[192]!;
  if (blockLog + dirBlkLog > 16) bad(`directory block size 2^${blockLog + dirBlkLog} exceeds 64 KiB`);

  const rootIno = readU64(buf, 56, "rootino");
  const fname = buf.subarray(108, 120);
  const nul = fname.indexOf(0);
  const label = fname.subarray(0, nul < 0 ? 12 : nul).toString("utf8");
  const uuid = Buffer.from(buf.subarray(32, 48));
  const metaUuid =
    version === 5 && incompat & INCOMPAT.META_UUID ? Buffer.from(buf.subarray(248, 264)) : uuid;

  return {
    version,
    blockSize,
    blockLog,
    sectSize,
    dBlocks,
    rBlocks: readU64(buf, 16, "rblocks"),
    agBlocks,
    agBlkLog,
    agCount,
    inodeSize,
    inodeLog,
    inodesPerBlockLog: blockLog - inodeLog,
    rootIno,
    dirBlockSize: blockSize << dirBlkLog,
    hasFtype: version === 5 ? (incompat & INCOMPAT.FTYPE) !== 0 : (features2 & VERSION2_FTYPE) !== 0,
    label,
    uuid: formatUuid(uuid),
    metaUuid,
    featuresIncompat: incompat,
    featuresRoCompat: roCompat,
    logStart: readU64(buf, 48, "logstart"),
    logBlocks: buf.readUInt32BE(96),
    uuidBytes: uuid,
    lsnCycle: version === 5 ? buf.readUInt32BE(240) : 0,
  };
}
