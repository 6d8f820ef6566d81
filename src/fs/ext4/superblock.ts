/** The ext2/3/4 superblock: geometry and features, validated so later arithmetic stays in range. */
import { ImageFormatError } from "../../errors.js";
import { crc32cRaw } from "../crc32c.js";

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
const MAGIC = 0xef53;

/** Feature bits, named as dumpe2fs names them. */
export const COMPAT = {
  dir_prealloc: 0x1,
  imagic_inodes: 0x2,
  has_journal: 0x4,
  ext_attr: 0x8,
  resize_inode: 0x10,
  dir_index: 0x20,
  sparse_super2: 0x200,
  fast_commit: 0x400,
  stable_inodes: 0x800,
  orphan_file: 0x1000,
} as const;

/** Incompatible features: a reader that does not know one of these must not read the filesystem. */
export const INCOMPAT = {
  compression: 0x1,
  filetype: 0x2,
  needs_recovery: 0x4,
  journal_dev: 0x8,
  meta_bg: 0x10,
  extent: 0x40,
  "64bit": 0x80,
  mmp: 0x100,
  flex_bg: 0x200,
  ea_inode: 0x400,
  dirdata: 0x1000,
  metadata_csum_seed: 0x2000,
  large_dir: 0x4000,
  inline_data: 0x8000,
  encrypt: 0x10000,
  casefold: 0x20000,
} as const;

export const RO_COMPAT = {
  sparse_super: 0x1,
  large_file: 0x2,
  huge_file: 0x8,
  uninit_bg: 0x10,
  dir_nlink: 0x20,
  extra_isize: 0x40,
  quota: 0x100,
  bigalloc: 0x200,
  metadata_csum: 0x400,
  replica: 0x800,
  read_only: 0x1000,
  project: 0x2000,
  shared_blocks: 0x4000,
  verity: 0x8000,
  orphan_present: 0x10000,
} as const;

/** Incompatible features this reader cannot read (everything not in INCOMPAT is refused too). */
const UNREADABLE_INCOMPAT = INCOMPAT.compression | INCOMPAT.journal_dev | INCOMPAT.dirdata;
const KNOWN_INCOMPAT = Object.values(INCOMPAT).reduce((a, b) => a | b, 0);

/** s_flags: which char signedness the directory hash uses. */
const FLAG_UNSIGNED_HASH = 0x2;

export interface Superblock {
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly inodesCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly groupCount: number;
  /** Bytes per group descriptor (32, or s_desc_size with 64bit). */
  readonly descSize: number;
  readonly firstMetaBg: number;
  /** Groups holding superblock backups under sparse_super2. */
  readonly backupBgs: readonly [number, number];
  /** log2 of the cluster size in blocks (bigalloc); 0 otherwise. */
  readonly clusterBits: number;
  readonly compat: number;
  readonly incompat: number;
  readonly roCompat: number;
  readonly label: string;
  readonly uuid: string;
  /** Directory hash: s_hash_seed (4 words) and s_def_hash_version. */
  readonly hashSeed: readonly number[];
  readonly defHashVersion: number;
  readonly unsignedHash: boolean;
  /** Seed of every metadata_csum checksum (s_checksum_seed, or the CRC-32C of the UUID). */
  readonly csumSeed: number;
  /** s_state: VALID_FS (1) when cleanly unmounted or journalled, ERROR_FS (2) after errors. */
  readonly state: number;
  /** Errors the kernel recorded since the last fsck, with the first one's time and function. */
  readonly errorCount: number;
  readonly firstError: { readonly time: number; readonly func: string };
  /** Head of the orphan inode list (inodes still to be released), 0 when empty. */
  readonly lastOrphan: number;
}

/** True when `buf` (the first 2048 bytes of a partition or more) holds an ext2, ext3 or ext4 superblock. */
export function isExt4(buf: Buffer): boolean {
  if (buf.length < SUPERBLOCK_OFFSET + 0x3a) return false;
  return buf.readUInt16LE(SUPERBLOCK_OFFSET + 0x38) === MAGIC;
}

/** Parses the 1024-byte superblock; `sourceSize` is the size of the partition holding it. */
export function parseSuperblock(sb: Buffer, sourceSize: number): Superblock {
  const bad = (why: string) => new ImageFormatError(`ext4: ${why}`);
  if (sb.length < SUPERBLOCK_SIZE) throw bad("superblock is truncated");
  if (sb.readUInt16LE(0x38) !== MAGIC)
    throw bad("no ext2/3/4 superblock (magic 0xEF53 missing at offset 1080)");

  const incompat = sb.readUInt32LE(0x60);
  if (incompat & INCOMPAT.journal_dev) throw bad("this is an external journal device, not a filesystem");
  const refused = incompat & (UNREADABLE_INCOMPAT | ~KNOWN_INCOMPAT);
  if (refused !== 0) {
    const names = namesOf(INCOMPAT, refused);
    const rest = refused & ~KNOWN_INCOMPAT;
    if (rest) names.push(`0x${(rest >>> 0).toString(16)}`);
    throw bad(`unsupported incompatible feature(s): ${names.join(", ")}`);
  }
  const compat = sb.readUInt32LE(0x5c);
  const roCompat = sb.readUInt32LE(0x64);
  const is64 = (incompat & INCOMPAT["64bit"]) !== 0;

  const logBlock = sb.readUInt32LE(0x18);
  if (logBlock > 6) throw bad(`block size 2^${10 + logBlock} is out of range (1 KiB to 64 KiB)`);
  const blockSize = 1024 << logBlock;

  const blocksCount = sb.readUInt32LE(0x04) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const inodesCount = sb.readUInt32LE(0x00);
  const firstDataBlock = sb.readUInt32LE(0x14);
  const blocksPerGroup = sb.readUInt32LE(0x20);
  const inodesPerGroup = sb.readUInt32LE(0x28);
  const revLevel = sb.readUInt32LE(0x4c);
  const inodeSize = revLevel === 0 ? 128 : sb.readUInt16LE(0x58);
  const clusterBits = roCompat & RO_COMPAT.bigalloc ? sb.readUInt32LE(0x1c) - logBlock : 0;

  if (blocksCount === 0 || firstDataBlock >= blocksCount) throw bad(`invalid block count ${blocksCount}`);
  if (blocksCount * blockSize > sourceSize) {
    throw bad(
      `filesystem needs ${blocksCount * blockSize} bytes but its partition holds ${sourceSize} (truncated image?)`,
    );
  }
  if (blocksPerGroup === 0 || blocksPerGroup > 8 * blockSize * 2 ** Math.max(0, clusterBits)) {
    throw bad(`invalid blocks per group ${blocksPerGroup}`);
  }
  if (inodesPerGroup === 0 || inodesPerGroup > 8 * blockSize)
    throw bad(`invalid inodes per group ${inodesPerGroup}`);
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw bad(`invalid inode size ${inodeSize}`);
  }
  if (clusterBits < 0 || clusterBits > 16) throw bad(`invalid cluster size (log ${clusterBits})`);

  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  if (inodesCount === 0 || inodesCount > groupCount * inodesPerGroup)
    throw bad(`invalid inode count ${inodesCount}`);

  let descSize = 32;
  if (is64) {
    descSize = sb.readUInt16LE(0xfe);
    if (descSize < 64 || descSize > 1024 || (descSize & (descSize - 1)) !== 0 || descSize > blockSize) {
      throw bad(`invalid group descriptor size ${descSize}`);
    }
  }

  const flags = sb.readUInt32LE(0x160);
  return {
    blockSize,
    blocksCount,
    inodesCount,
    firstDataBlock,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    groupCount,
    descSize,
    firstMetaBg: sb.readUInt32LE(0x104),
    backupBgs: [sb.readUInt32LE(0x24c), sb.readUInt32LE(0x250)],
    clusterBits,
    compat,
    incompat,
    roCompat,
    label: cString(sb.subarray(0x78, 0x88)),
    uuid: formatUuid(sb.subarray(0x68, 0x78)),
    hashSeed: [0, 1, 2, 3].map((i) => sb.readUInt32LE(0xec + 4 * i)),
    defHashVersion: sb.readUInt8(0xfc),
    unsignedHash: (flags & FLAG_UNSIGNED_HASH) !== 0,
    state: sb.readUInt16LE(0x3a),
    errorCount: sb.readUInt32LE(0x194),
    firstError: { time: sb.readUInt32LE(0x198), func: cString(sb.subarray(0x1a8, 0x1c8)) },
    lastOrphan: sb.readUInt32LE(0xe8),
    csumSeed:
      incompat & INCOMPAT.metadata_csum_seed
        ? sb.readUInt32LE(0x270)
        : crc32cRaw(0xffffffff, sb.subarray(0x68, 0x78)),
  };
}

const STATE_VALID = 0x1;
const STATE_ERROR = 0x2;

/**
 * Whether the filesystem was cleanly unmounted, as the kernel and e2fsck judge it from the superblock:
 * a journal that needs recovery, a state not marked valid (unjournalled filesystems clear it while
 * mounted), recorded errors, and orphan inodes left to release.
 */
export function cleanStateOf(sb: Superblock): { clean: boolean; detail: string } {
  const problems: string[] = [];
  if (sb.incompat & INCOMPAT.needs_recovery) problems.push("the journal needs recovery (needs_recovery)");
  if (!(sb.state & STATE_VALID))
    problems.push("the state is not clean (not unmounted, or fsck never finished)");
  if (sb.state & STATE_ERROR || sb.errorCount > 0) {
    const first = sb.firstError.time
      ? `, first at ${new Date(sb.firstError.time * 1000).toISOString()}${sb.firstError.func ? ` in ${sb.firstError.func}` : ""}`
      : "";
    problems.push(`errors were recorded (${sb.errorCount} error${sb.errorCount === 1 ? "" : "s"}${first})`);
  }
  if (sb.lastOrphan !== 0 || sb.roCompat & RO_COMPAT.orphan_present) {
    problems.push("orphan inodes are waiting to be released");
  }
  if (problems.length > 0) return { clean: false, detail: `not clean: ${problems.join("; ")}` };
  return {
    clean: true,
    detail:
      sb.compat & COMPAT.has_journal
        ? "clean (journal empty, no errors recorded)"
        : "clean (no errors recorded)",
  };
}

/** The features set in the superblock, in dumpe2fs's order and naming (unknown compat/ro_compat bits left out). */
export function featureNames(sb: Superblock): string[] {
  return [
    ...namesOf(COMPAT, sb.compat),
    ...namesOf(INCOMPAT, sb.incompat),
    ...namesOf(RO_COMPAT, sb.roCompat),
  ];
}

function namesOf(table: Record<string, number>, bits: number): string[] {
  return Object.entries(table)
    .filter(([, bit]) => bits & bit)
    .map(([name]) => name);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString("utf8", 0, end === -1 ? b.length : end);
}

function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
