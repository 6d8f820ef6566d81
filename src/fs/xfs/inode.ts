/** The on-disk inode: core fields (v1/v2/v3, bigtime, nrext64) and the bounds of its two forks. */
import { ImageFormatError } from "../../errors.js";
import { xfsCrcOk } from "../crc32c.js";
import type { FileType, InodeStat } from "../types.js";
import type { XfsSuperblock } from "./superblock.js";

const INODE_MAGIC = 0x494e; // "IN"
const CORE_V2 = 100; // literal area offset for v1/v2 inodes
const CORE_V3 = 176;
const CRC_OFFSET = 100;

export const FORMAT = { DEV: 0, LOCAL: 1, EXTENTS: 2, BTREE: 3 } as const;

const DIFLAG_REALTIME = 0x1;
const DIFLAG2_BIGTIME = 0x8n;
const DIFLAG2_NREXT64 = 0x10n;
/** Seconds between the bigtime epoch (the lowest 32-bit time_t) and the Unix epoch. */
const BIGTIME_EPOCH_OFFSET = 2 ** 31;

/** One fork of an inode: the data fork, or the attribute fork that follows it in the literal area. */
export interface XfsFork {
  readonly kind: "data" | "attribute";
  /** FORMAT.DEV, LOCAL, EXTENTS or BTREE. */
  readonly format: number;
  /** Extent records in the fork (the whole tree for BTREE format). */
  readonly nextents: number;
  /** The fork's bytes in the inode. */
  readonly bytes: Buffer;
}

export interface XfsInode {
  readonly ino: number;
  readonly stat: InodeStat;
  readonly realtime: boolean;
  /** The data fork (the literal area up to the attribute fork). */
  readonly data: XfsFork;
  /** The attribute fork, or undefined when the inode has none (di_forkoff 0). Checked when read. */
  readonly attr: XfsFork | undefined;
}

/** The file type encoded in the S_IFMT bits of a mode (no octal object keys: biome rewrites them). */
function fileType(mode: number): FileType | undefined {
  switch (mode & 0o170000) {
    case 0o010000:
      return "fifo";
    case 0o020000:
      return "chardev";
    case 0o040000:
      return "dir";
    case 0o060000:
      return "blockdev";
    case 0o100000:
      return "file";
    case 0o120000:
      return "symlink";
    case 0o140000:
      return "socket";
    default:
      return undefined;
  }
}

function bad(ino: number, what: string): never {
  throw new ImageFormatError(`xfs: inode ${ino}: ${what}`);
}

function formatAllowed(type: FileType, format: number): boolean {
  switch (type) {
    case "file":
      return format === FORMAT.EXTENTS || format === FORMAT.BTREE;
    case "dir":
    case "symlink":
      return format === FORMAT.LOCAL || format === FORMAT.EXTENTS || format === FORMAT.BTREE;
    default:
      return format === FORMAT.DEV;
  }
}

function timestamp(raw: Buffer, off: number, bigtime: boolean): number {
  if (bigtime) return Number(raw.readBigUInt64BE(off) / 1_000_000_000n) - BIGTIME_EPOCH_OFFSET;
  return raw.readInt32BE(off);
}

/** Parses the `sb.inodeSize` bytes of inode `ino`. */
export function parseInode(raw: Buffer, ino: number, sb: XfsSuperblock): XfsInode {
  if (raw.length !== sb.inodeSize) bad(ino, `expected ${sb.inodeSize} bytes`);
  const magic = raw.readUInt16BE(0);
  if (magic !== INODE_MAGIC) bad(ino, `bad magic 0x${magic.toString(16)} (expected 0x494e "IN")`);
  const version = raw[4]!;
  if (sb.version === 5 ? version !== 3 : version !== 1 && version !== 2) {
    bad(ino, `inode version ${version} does not belong on a v${sb.version} filesystem`);
  }
  if (version === 3) {
    if (!xfsCrcOk(raw, CRC_OFFSET)) bad(ino, "checksum mismatch");
    const self = raw.readBigUInt64BE(152);
    if (self !== BigInt(ino)) bad(ino, `inode records its own number as ${self}`);
  }

  const mode = raw.readUInt16BE(2);
  const type = fileType(mode);
  if (mode === 0) bad(ino, "not in use (mode 0)");
  if (!type) bad(ino, `unknown file type in mode 0${mode.toString(8)}`);
  const format = raw[5]!;
  if (!formatAllowed(type, format)) bad(ino, `data fork format ${format} is invalid for a ${type}`);

  const flags2 = version === 3 ? raw.readBigUInt64BE(120) : 0n;
  const bigtime = (flags2 & DIFLAG2_BIGTIME) !== 0n;
  const nrext64 = (flags2 & DIFLAG2_NREXT64) !== 0n;
  const sizeBig = raw.readBigInt64BE(56);
  if (sizeBig < 0n || sizeBig > BigInt(Number.MAX_SAFE_INTEGER)) bad(ino, `invalid size ${sizeBig}`);
  const nextentsBig = nrext64 ? raw.readBigUInt64BE(24) : BigInt(raw.readUInt32BE(76));
  if (nextentsBig > BigInt(Number.MAX_SAFE_INTEGER)) bad(ino, `absurd extent count ${nextentsBig}`);

  const literal = version === 3 ? CORE_V3 : CORE_V2;
  const forkoff = raw[82]! * 8;
  const literalSize = sb.inodeSize - literal;
  if (forkoff >= literalSize) bad(ino, `attribute fork offset ${forkoff} is beyond the inode`);
  const dataFork = raw.subarray(literal, literal + (forkoff || literalSize));
  const attr: XfsFork | undefined =
    forkoff === 0
      ? undefined
      : {
          kind: "attribute",
          format: raw[83]!,
          nextents: nrext64 ? raw.readUInt32BE(76) : raw.readUInt16BE(80),
          bytes: raw.subarray(literal + forkoff),
        };

  let rdev: readonly [number, number] | undefined;
  if (type === "blockdev" || type === "chardev") {
    const dev = dataFork.readUInt32BE(0);
    rdev = [(dev >>> 18) & 0x1ff, dev & 0x3ffff];
  }

  const stat: InodeStat = {
    ino,
    type,
    mode: mode & 0o7777,
    size: Number(sizeBig),
    nlink: version === 1 ? raw.readUInt16BE(6) : raw.readUInt32BE(16),
    uid: raw.readUInt32BE(8),
    gid: raw.readUInt32BE(12),
    atime: timestamp(raw, 32, bigtime),
    mtime: timestamp(raw, 40, bigtime),
    ...(rdev ? { rdev } : {}),
  };
  return {
    ino,
    stat,
    realtime: (raw.readUInt16BE(90) & DIFLAG_REALTIME) !== 0,
    data: { kind: "data", format, nextents: Number(nextentsBig), bytes: dataFork },
    attr,
  };
}
