/**
 * Directory entries in every on-disk form. Short-form directories live in the inode. Block, leaf,
 * node and B+tree directories all keep their entries in data blocks in the first 32 GiB of the
 * directory's address space (the leaf, node and free-index blocks above it only index them), so
 * listing reads exactly those data blocks and skips holes.
 */
import { ImageFormatError } from "../../errors.js";
import { entryFor } from "../names.js";
import type { DirEntry } from "../types.js";
import { checkV5Header, type XfsContext } from "./context.js";
import { type Extent, extentsInRange } from "./extents.js";
import { FORMAT, type XfsInode } from "./inode.js";

/** Byte offset where the leaf section of a directory's address space starts. */
const DIR2_LEAF_OFFSET = 32 * 1024 ** 3;

const MAGIC = {
  block2: 0x58443242, // "XD2B" single-block directory, v4
  data2: 0x58443244, // "XD2D" data block, v4
  block3: 0x58444233, // "XDB3"
  data3: 0x58444433, // "XDD3"
} as const;

function bad(ino: number, what: string): never {
  throw new ImageFormatError(`xfs: directory inode ${ino}: ${what}`);
}

/** Names are any bytes except NUL and '/'; false for "." and "..", which are not reported. */
function checkName(ino: number, name: Buffer): boolean {
  if (name.includes(0) || name.includes(0x2f)) bad(ino, "entry name contains NUL or '/'");
  if (name.length === 1 && name[0] === 0x2e) return false;
  return !(name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
}

function checkIno(ctx: XfsContext, dirIno: number, ino: number): number {
  if (!ctx.geo.isValidIno(ino)) bad(dirIno, `entry points to invalid inode number ${ino}`);
  return ino;
}

/**
 * The 64-bit big-endian inode number at `at`, read as two words: no BigInt per entry (they cost the
 * interpreter dearly over thousands of entries). Above 2^53 - 1 it names no inode.
 */
function inodeNumber(dirIno: number, buf: Buffer, at: number): number {
  const hi = buf.readUInt32BE(at);
  if (hi > 0x1fffff) bad(dirIno, `entry points to invalid inode number ${buf.readBigUInt64BE(at)}`);
  return hi * 0x100000000 + buf.readUInt32BE(at + 4);
}

/** Entries of a short-form (inline) directory. */
function shortFormEntries(ctx: XfsContext, inode: XfsInode): DirEntry[] {
  const ino = inode.ino;
  const size = inode.stat.size;
  const fork = inode.data.bytes;
  if (size > fork.length) bad(ino, `short-form size ${size} exceeds the ${fork.length}-byte data fork`);
  if (size < 6) bad(ino, `short-form size ${size} is too small`);
  const data = fork.subarray(0, size);
  const count = data[0]!;
  const i8count = data[1]!;
  const inoSize = i8count ? 8 : 4;
  let pos = 2 + inoSize; // header: count, i8count, parent
  if (pos > size) bad(ino, "short-form header is truncated");
  checkIno(ctx, ino, inoSize === 8 ? inodeNumber(ino, data, 2) : data.readUInt32BE(2));
  const out: DirEntry[] = [];
  const ftype = ctx.sb.hasFtype ? 1 : 0;
  for (let i = 0; i < count; i++) {
    if (pos + 3 > size) bad(ino, "short-form entry runs past the end");
    const namelen = data[pos]!;
    if (namelen === 0) bad(ino, "short-form entry with an empty name");
    const nameAt = pos + 3; // namelen, 2-byte offset tag
    const inoAt = nameAt + namelen + ftype;
    if (inoAt + inoSize > size) bad(ino, "short-form entry runs past the end");
    const child = inoSize === 8 ? inodeNumber(ino, data, inoAt) : data.readUInt32BE(inoAt);
    const name = data.subarray(nameAt, nameAt + namelen);
    if (checkName(ino, name)) out.push(entryFor(name, checkIno(ctx, ino, child)));
    pos = inoAt + inoSize;
  }
  return out;
}

/** Entries of one directory data block ("XD2B"/"XDB3" single-block form or "XD2D"/"XDD3"). */
function dataBlockEntries(
  ctx: XfsContext,
  dirIno: number,
  buf: Buffer,
  byteOffset: number,
  out: DirEntry[],
): void {
  const { sb } = ctx;
  const v5 = sb.version === 5;
  const magic = buf.readUInt32BE(0);
  const isBlockForm = magic === (v5 ? MAGIC.block3 : MAGIC.block2);
  if (!isBlockForm && magic !== (v5 ? MAGIC.data3 : MAGIC.data2)) {
    bad(dirIno, `data block at byte ${byteOffset}: bad magic 0x${magic.toString(16)}`);
  }
  const what = `directory inode ${dirIno} data block at byte ${byteOffset}`;
  if (v5)
    checkV5Header(ctx, buf, { crc: 4, blkno: 8, uuid: 24, owner: 40 }, { byteOffset, owner: dirIno }, what);
  const hdr = v5 ? 64 : 16;
  let end = buf.length;
  if (isBlockForm) {
    // Tail: leaf entry count and stale count; the leaf array (8 bytes an entry) sits before it.
    const leafCount = buf.readUInt32BE(buf.length - 8);
    end = buf.length - 8 - leafCount * 8;
    if (leafCount > buf.length || end < hdr) bad(dirIno, `block directory claims ${leafCount} leaf entries`);
  }
  const ftype = sb.hasFtype ? 1 : 0;
  let pos = hdr;
  while (pos < end) {
    if (pos + 8 > end) bad(dirIno, `entry at ${pos} in a data block runs past the end`);
    if (buf.readUInt16BE(pos) === 0xffff) {
      const len = buf.readUInt16BE(pos + 2);
      if (len < 8 || len % 8 !== 0 || pos + len > end)
        bad(dirIno, `free space of ${len} bytes at ${pos} is invalid`);
      pos += len;
      continue;
    }
    const namelen = buf[pos + 8]!;
    if (namelen === 0) bad(dirIno, `entry at ${pos} has an empty name`);
    const size = (8 + 1 + namelen + ftype + 2 + 7) & ~7;
    if (pos + size > end) bad(dirIno, `entry at ${pos} runs past the end of its block`);
    if (buf.readUInt16BE(pos + size - 2) !== pos) bad(dirIno, `entry at ${pos} has a wrong offset tag`);
    const child = inodeNumber(dirIno, buf, pos);
    const name = buf.subarray(pos + 9, pos + 9 + namelen);
    if (checkName(dirIno, name)) out.push(entryFor(name, checkIno(ctx, dirIno, child)));
    pos += size;
  }
}

/**
 * Reads the directory block made of file blocks [first, first + n) from the sorted extents, starting
 * the search at extent `from` (the block may begin in an earlier extent than the current one).
 */
async function readDirBlock(
  ctx: XfsContext,
  ino: number,
  extents: readonly Extent[],
  from: number,
  first: number,
  n: number,
) {
  const bs = ctx.sb.blockSize;
  const pieces: Buffer[] = [];
  let fileBlock = first;
  let startByte = -1;
  let i = from;
  while (i > 0 && extents[i - 1]!.fileBlock + extents[i - 1]!.count > first) i--;
  for (; i < extents.length; i++) {
    const e = extents[i]!;
    if (fileBlock >= first + n) break;
    if (e.fileBlock + e.count <= fileBlock) continue;
    if (e.fileBlock > fileBlock) break; // a hole inside the directory block
    if (e.unwritten) bad(ino, `directory block at file block ${first} is unwritten`);
    const skip = fileBlock - e.fileBlock;
    const take = Math.min(e.count - skip, first + n - fileBlock);
    const at = (e.block + skip) * bs;
    if (startByte < 0) startByte = at;
    pieces.push(await ctx.cache.read(at, take * bs));
    fileBlock += take;
  }
  if (fileBlock !== first + n) bad(ino, `directory block at file block ${first} is only partly mapped`);
  return { buf: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces), byteOffset: startByte };
}

/** All entries of a directory, without "." and "..", in on-disk order. */
export async function readDirectory(ctx: XfsContext, inode: XfsInode): Promise<DirEntry[]> {
  if (inode.stat.type !== "dir") throw new ImageFormatError(`xfs: inode ${inode.ino} is not a directory`);
  if (inode.data.format === FORMAT.LOCAL) return shortFormEntries(ctx, inode);
  const { sb } = ctx;
  const perDirBlock = sb.dirBlockSize / sb.blockSize;
  const dataBytes = Math.min(inode.stat.size, DIR2_LEAF_OFFSET);
  const dataBlocks = Math.ceil(dataBytes / sb.dirBlockSize) * perDirBlock;
  const extents = await extentsInRange(ctx, inode, 0, dataBlocks);
  const out: DirEntry[] = [];
  let next = 0; // first file block of the next directory block not yet read
  for (let i = 0; i < extents.length; i++) {
    const e = extents[i]!;
    let first = Math.max(next, Math.floor(e.fileBlock / perDirBlock) * perDirBlock);
    for (; first < e.fileBlock + e.count && first < dataBlocks; first += perDirBlock) {
      const { buf, byteOffset } = await readDirBlock(ctx, inode.ino, extents, i, first, perDirBlock);
      dataBlockEntries(ctx, inode.ino, buf, byteOffset, out);
      next = first + perDirBlock;
    }
  }
  return out;
}
