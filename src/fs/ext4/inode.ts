/** The on-disk ext2/3/4 inode: type, ownership, size, times, flags and the 60-byte i_block area. */
import { ImageFormatError } from "../../errors.js";
import type { FileType, InodeStat } from "../types.js";
import { XATTR_MAGIC } from "./xattr.js";

/** i_flags bits that change how an inode is read. */
export const INODE_FLAG = {
  encrypt: 0x800,
  index: 0x1000,
  hugeFile: 0x40000,
  extents: 0x80000,
  eaInode: 0x200000,
  inlineData: 0x10000000,
  casefold: 0x40000000,
} as const;

/** Bytes of i_block: 15 block pointers, an extent root, inline data or a fast symlink. */
export const I_BLOCK_SIZE = 60;
const GOOD_OLD_INODE_SIZE = 128;

export interface Inode {
  readonly ino: number;
  readonly type: FileType;
  /** i_mode & 0o7777. */
  readonly perm: number;
  readonly size: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly atime: number;
  readonly mtime: number;
  readonly flags: number;
  /** i_blocks in 512-byte units (already scaled when the inode uses huge_file block units). */
  readonly sectors: number;
  /** Extended attribute block, 0 when none. */
  readonly fileAcl: number;
  /** The 60-byte i_block area. */
  readonly block: Buffer;
  /** The in-inode extended attribute area (after i_extra_isize and its magic), empty when there is none. */
  readonly xattrArea: Buffer;
  /** The whole on-disk inode (for its checksum). */
  readonly raw: Buffer;
}

const TYPES: Record<number, FileType> = {
  1: "fifo",
  2: "chardev",
  4: "dir",
  6: "blockdev",
  8: "file",
  10: "symlink",
  12: "socket",
};

/**
 * Parses one raw inode (inode_size bytes). `largeDir` makes i_size_high count for directories too
 * (as the kernel does with the large_dir feature); `blockSize` scales i_blocks for huge files.
 */
export function parseInode(ino: number, raw: Buffer, opts: { largeDir: boolean; blockSize: number }): Inode {
  const bad = (why: string) => new ImageFormatError(`ext4: inode ${ino}: ${why}`);
  const mode = raw.readUInt16LE(0x00);
  const type = TYPES[mode >> 12];
  if (type === undefined)
    throw bad(`unknown file type in mode 0o${mode.toString(8)} (unused or corrupt inode)`);
  const flags = raw.readUInt32LE(0x20);

  const sizeHigh = type === "file" || opts.largeDir ? raw.readUInt32LE(0x6c) : 0;
  const size = raw.readUInt32LE(0x04) + sizeHigh * 2 ** 32;
  if (!Number.isSafeInteger(size)) throw bad(`size ${size} is out of range`);

  const extra = raw.length > GOOD_OLD_INODE_SIZE ? raw.readUInt16LE(0x80) : 0;
  let xattrArea: Buffer = Buffer.alloc(0);
  if (raw.length > GOOD_OLD_INODE_SIZE) {
    if (extra > raw.length - GOOD_OLD_INODE_SIZE || extra % 4 !== 0)
      throw bad(`invalid i_extra_isize ${extra}`);
    const start = GOOD_OLD_INODE_SIZE + extra;
    if (start + 4 <= raw.length && raw.readUInt32LE(start) === XATTR_MAGIC)
      xattrArea = raw.subarray(start + 4);
  }
  // An extra time field counts only if i_extra_isize covers it (its end, relative to byte 128).
  const extraTime = (off: number) => (extra >= off + 4 - GOOD_OLD_INODE_SIZE ? raw.readUInt32LE(off) : 0);

  const blocksHigh = raw.readUInt16LE(0x74);
  let sectors = raw.readUInt32LE(0x1c) + blocksHigh * 2 ** 32;
  if (flags & INODE_FLAG.hugeFile) sectors *= opts.blockSize / 512;

  return {
    ino,
    type,
    perm: mode & 0o7777,
    size,
    nlink: raw.readUInt16LE(0x1a),
    uid: raw.readUInt16LE(0x02) + raw.readUInt16LE(0x78) * 0x10000,
    gid: raw.readUInt16LE(0x18) + raw.readUInt16LE(0x7a) * 0x10000,
    atime: decodeTime(raw.readInt32LE(0x08), extraTime(0x8c)),
    mtime: decodeTime(raw.readInt32LE(0x10), extraTime(0x88)),
    flags,
    sectors,
    fileAcl: raw.readUInt32LE(0x68) + raw.readUInt16LE(0x76) * 2 ** 32,
    block: raw.subarray(0x28, 0x28 + I_BLOCK_SIZE),
    xattrArea,
    raw,
  };
}

/**
 * Seconds from a signed 32-bit base and the extra field's two epoch bits, as the kernel decodes them:
 * the epoch bits add multiples of 2^32 (dates after 2038); the nanoseconds are dropped.
 */
export function decodeTime(base: number, extra: number): number {
  return base + (extra & 3) * 2 ** 32;
}

/** Device numbers from i_block: the old 16-bit encoding in word 0, else the new 32-bit one in word 1. */
export function decodeRdev(block: Buffer): [major: number, minor: number] {
  const old = block.readUInt32LE(0);
  if (old !== 0) return [(old >> 8) & 0xff, old & 0xff];
  const dev = block.readUInt32LE(4);
  return [(dev & 0xfff00) >>> 8, (dev & 0xff) | ((dev >>> 12) & 0xfff00)];
}

export function toStat(inode: Inode): InodeStat {
  const stat: InodeStat = {
    ino: inode.ino,
    type: inode.type,
    mode: inode.perm,
    size: inode.size,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    mtime: inode.mtime,
    atime: inode.atime,
  };
  if (inode.type === "blockdev" || inode.type === "chardev")
    return { ...stat, rdev: decodeRdev(inode.block) };
  return stat;
}
