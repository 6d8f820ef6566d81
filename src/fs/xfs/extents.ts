/**
 * Fork block maps (data and attribute forks): extent lists stored in the inode, and extent B+trees
 * (BMBT) rooted in it.
 * A lookup walks one root-to-leaf path and then the leaf chain, so it reads only the btree blocks that
 * cover the requested range.
 */
import { ImageFormatError } from "../../errors.js";
import { checkV5Header, type XfsContext } from "./context.js";
import { FORMAT, type XfsFork, type XfsInode } from "./inode.js";

export interface Extent {
  /** First file block (in filesystem blocks) the extent maps. */
  readonly fileBlock: number;
  /** Linear index of its first block on the device (byte offset / block size). */
  readonly block: number;
  readonly count: number;
  /** Preallocated but never written: reads as zeros. */
  readonly unwritten: boolean;
}

const BMAP_MAGIC = 0x424d4150; // "BMAP", v4
const BMA3_MAGIC = 0x424d4133; // "BMA3", v5
const NULL_FSBLOCK = 0xffffffffffffffffn;
/** Deeper than any real extent tree: even 1 KiB blocks need fewer levels for 2^48 extents. */
export const MAX_BMBT_LEVELS = 14;

function bad(ino: number, what: string): never {
  throw new ImageFormatError(`xfs: inode ${ino}: ${what}`);
}

/** Decodes the 16-byte packed extent record at `off` (flag:1, startoff:54, startblock:52, count:21). */
export function decodeExtent(ctx: XfsContext, buf: Buffer, off: number, ino: number): Extent {
  const w0 = buf.readUInt32BE(off);
  const w1 = buf.readUInt32BE(off + 4);
  const w2 = buf.readUInt32BE(off + 8);
  const w3 = buf.readUInt32BE(off + 12);
  const fileBlock = (w0 & 0x7fffffff) * 2 ** 23 + (w1 >>> 9);
  const fsbno = (w1 & 0x1ff) * 2 ** 43 + w2 * 2 ** 11 + (w3 >>> 21);
  const count = w3 & 0x1fffff;
  if (count === 0) bad(ino, `empty extent at file block ${fileBlock}`);
  if ((fileBlock + count) * ctx.sb.blockSize > Number.MAX_SAFE_INTEGER) {
    bad(ino, `extent at file block ${fileBlock} lies beyond the largest supported file offset`);
  }
  const block = ctx.geo.linearBlock(fsbno, count, `inode ${ino} extent`);
  return { fileBlock, block, count, unwritten: w0 >>> 31 === 1 };
}

/** Throws unless `next` starts at or after `prevEnd` (the file block after the previous extent). */
function checkOrder(ino: number, prevEnd: number, next: Extent): number {
  if (next.fileBlock < prevEnd)
    bad(ino, `extent at file block ${next.fileBlock} overlaps or is out of order`);
  return next.fileBlock + next.count;
}

const extentListCache = new WeakMap<XfsFork, Extent[]>();

/** The extent list of an EXTENTS-format fork, validated. */
function inodeExtentList(ctx: XfsContext, ino: number, fork: XfsFork): Extent[] {
  const cached = extentListCache.get(fork);
  if (cached) return cached;
  if (fork.nextents * 16 > fork.bytes.length) {
    bad(ino, `${fork.nextents} extents do not fit in a ${fork.bytes.length}-byte ${fork.kind} fork`);
  }
  const list: Extent[] = [];
  let end = 0;
  for (let i = 0; i < fork.nextents; i++) {
    const e = decodeExtent(ctx, fork.bytes, i * 16, ino);
    end = checkOrder(ino, end, e);
    list.push(e);
  }
  extentListCache.set(fork, list);
  return list;
}

/** Extents of `list` (sorted) that overlap file blocks [from, to). */
function overlapping(list: readonly Extent[], from: number, to: number): Extent[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = list[mid]!;
    if (e.fileBlock + e.count <= from) lo = mid + 1;
    else hi = mid;
  }
  const out: Extent[] = [];
  for (let i = lo; i < list.length && list[i]!.fileBlock < to; i++) out.push(list[i]!);
  return out;
}

/** A node of the extent btree: the root in the inode or a block on disk. */
interface BtreeNode {
  readonly buf: Buffer;
  readonly level: number;
  readonly numrecs: number;
  /** Offsets of key 0 and pointer 0 (nodes) or record 0 (leaves). */
  readonly keysAt: number;
  readonly ptrsAt: number;
  readonly rightSibling: bigint;
}

function readU64Number(buf: Buffer, off: number, ino: number, what: string): number {
  const v = buf.readBigUInt64BE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(ino, `${what} ${v} is out of range`);
  return Number(v);
}

function rootNode(ino: number, fork: XfsFork): BtreeNode {
  const bytes = fork.bytes;
  if (bytes.length < 4)
    bad(ino, `${fork.kind} fork of ${bytes.length} bytes cannot hold an extent btree root`);
  const level = bytes.readUInt16BE(0);
  const numrecs = bytes.readUInt16BE(2);
  const maxrecs = Math.floor((bytes.length - 4) / 16);
  if (level < 1 || level > MAX_BMBT_LEVELS) bad(ino, `extent btree of absurd depth ${level}`);
  if (numrecs < 1 || numrecs > maxrecs)
    bad(ino, `extent btree root holds ${numrecs} of at most ${maxrecs} keys`);
  return { buf: bytes, level, numrecs, keysAt: 4, ptrsAt: 4 + maxrecs * 8, rightSibling: NULL_FSBLOCK };
}

async function readBtreeBlock(
  ctx: XfsContext,
  ino: number,
  fsbno: number,
  level: number,
): Promise<BtreeNode> {
  const { sb } = ctx;
  const byteOffset = ctx.geo.blockOffset(fsbno, `inode ${ino} extent btree`);
  const buf = await ctx.cache.read(byteOffset, sb.blockSize);
  const what = `inode ${ino} extent btree block ${fsbno}`;
  const magic = buf.readUInt32BE(0);
  const expected = sb.version === 5 ? BMA3_MAGIC : BMAP_MAGIC;
  if (magic !== expected) throw new ImageFormatError(`xfs: ${what}: bad magic 0x${magic.toString(16)}`);
  const hdr = sb.version === 5 ? 72 : 24;
  if (sb.version === 5) {
    checkV5Header(ctx, buf, { crc: 64, blkno: 24, uuid: 40, owner: 56 }, { byteOffset, owner: ino }, what);
  }
  const blockLevel = buf.readUInt16BE(4);
  if (blockLevel !== level)
    throw new ImageFormatError(`xfs: ${what}: level ${blockLevel}, expected ${level}`);
  const numrecs = buf.readUInt16BE(6);
  const maxrecs = Math.floor((sb.blockSize - hdr) / 16);
  if (numrecs < 1 || numrecs > maxrecs) {
    throw new ImageFormatError(`xfs: ${what}: holds ${numrecs} of at most ${maxrecs} records`);
  }
  return {
    buf,
    level,
    numrecs,
    keysAt: hdr,
    ptrsAt: hdr + maxrecs * 8,
    rightSibling: buf.readBigUInt64BE(16),
  };
}

/** Extents of a BTREE-format fork overlapping file blocks [from, to). */
async function btreeExtents(
  ctx: XfsContext,
  ino: number,
  fork: XfsFork,
  from: number,
  to: number,
): Promise<Extent[]> {
  let node = rootNode(ino, fork);
  let lowKey = 0;
  while (node.level > 0) {
    // The last key <= from (or the first key), checking that keys increase and respect the parent's key.
    let pick = 0;
    let prev = -1;
    for (let i = 0; i < node.numrecs; i++) {
      const key = readU64Number(node.buf, node.keysAt + i * 8, ino, "btree key");
      if (key <= prev || key < lowKey) bad(ino, "extent btree keys are out of order");
      prev = key;
      if (key <= from) pick = i;
    }
    lowKey = readU64Number(node.buf, node.keysAt + pick * 8, ino, "btree key");
    const ptr = readU64Number(node.buf, node.ptrsAt + pick * 8, ino, "btree pointer");
    node = await readBtreeBlock(ctx, ino, ptr, node.level - 1);
  }

  const out: Extent[] = [];
  let end = lowKey;
  let leaves = 0;
  for (;;) {
    for (let i = 0; i < node.numrecs; i++) {
      const e = decodeExtent(ctx, node.buf, node.keysAt + i * 16, ino);
      end = checkOrder(ino, end, e);
      if (e.fileBlock >= to) return out;
      if (e.fileBlock + e.count > from) out.push(e);
    }
    if (node.rightSibling === NULL_FSBLOCK) return out;
    // Records strictly advance from leaf to leaf, so a sibling cycle fails checkOrder; this bounds the rest.
    if (++leaves > ctx.sb.dBlocks) bad(ino, "extent btree leaf chain is longer than the filesystem");
    const next = node.rightSibling;
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) bad(ino, `extent btree sibling ${next} is out of range`);
    node = await readBtreeBlock(ctx, ino, Number(next), 0);
  }
}

/** Extents of `fork` of inode `ino` that overlap fork blocks [from, to), in order. */
export async function forkExtentsInRange(
  ctx: XfsContext,
  ino: number,
  fork: XfsFork,
  from: number,
  to: number,
): Promise<Extent[]> {
  if (to <= from) return [];
  if (fork.format === FORMAT.EXTENTS) return overlapping(inodeExtentList(ctx, ino, fork), from, to);
  if (fork.format === FORMAT.BTREE) return btreeExtents(ctx, ino, fork, from, to);
  bad(ino, `${fork.kind} fork format ${fork.format} has no block map`);
}

/** Extents of the data fork that overlap file blocks [from, to), in file order. */
export function extentsInRange(
  ctx: XfsContext,
  inode: XfsInode,
  from: number,
  to: number,
): Promise<Extent[]> {
  return forkExtentsInRange(ctx, inode.ino, inode.data, from, to);
}
