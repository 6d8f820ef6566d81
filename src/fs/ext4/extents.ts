/**
 * The ext4 extent tree: a root of up to 4 entries in i_block, index nodes and leaves in blocks.
 * Each node is validated once when read (magic, counts, depth, order, block ranges).
 */
import { ImageFormatError } from "../../errors.js";
import { type BlockRun, checkBlocks, type MapContext } from "./blockmap.js";

const EXTENT_MAGIC = 0xf30a;
/** The kernel's limit; a deeper tree is corrupt. */
export const MAX_EXTENT_DEPTH = 5;
/** ee_len above this marks an unwritten (preallocated) extent of ee_len - 32768 blocks. */
const INIT_MAX_LEN = 32768;

/** A validated node: its bytes and header; entries are read from the bytes on demand. */
interface ExtentNode {
  readonly buf: Buffer;
  readonly depth: number;
  readonly entries: number;
}

export class ExtentMapper {
  /** Blocks (from the filesystem's block cache) already validated as extent nodes. */
  private readonly validated = new WeakMap<Buffer, ExtentNode>();

  constructor(private readonly ctx: MapContext) {}

  /** The run of blocks starting at logical block `lblk` of inode `ino` whose i_block is `root`. */
  async map(ino: number, root: Buffer, lblk: number): Promise<BlockRun> {
    let node = parseNode(root, ino, "extent tree root", this.ctx);
    // First logical block past the subtree we are in: where a hole at the end of a leaf stops.
    let upper = Number.POSITIVE_INFINITY;
    for (;;) {
      const i = lastAtOrBefore(node, lblk);
      if (node.depth === 0) {
        if (i >= 0) {
          const e = leaf(node.buf, i);
          if (lblk < e.start + e.len) {
            const into = lblk - e.start;
            return { physical: e.physical + into, count: e.len - into, zero: e.unwritten };
          }
        }
        const next = i + 1 < node.entries ? start(node.buf, i + 1) : upper;
        return { physical: 0, count: Math.min(next, upper) - lblk, zero: true };
      }
      if (i < 0) return { physical: 0, count: Math.min(start(node.buf, 0), upper) - lblk, zero: true };
      if (i + 1 < node.entries) upper = Math.min(upper, start(node.buf, i + 1));
      const childBlock = indexChild(node.buf, i);
      const child = await this.node(childBlock, ino);
      if (child.depth !== node.depth - 1) {
        throw new ImageFormatError(
          `ext4: inode ${ino}: extent node at block ${childBlock} has depth ${child.depth}, expected ${node.depth - 1}`,
        );
      }
      node = child;
    }
  }

  private async node(block: number, ino: number): Promise<ExtentNode> {
    const buf = await this.ctx.metaBlock(block);
    let node = this.validated.get(buf);
    if (!node) {
      node = parseNode(buf, ino, `extent node at block ${block}`, this.ctx);
      this.validated.set(buf, node);
    }
    return node;
  }
}

const start = (buf: Buffer, k: number) => buf.readUInt32LE(12 + 12 * k);
const indexChild = (buf: Buffer, k: number) =>
  buf.readUInt32LE(12 + 12 * k + 4) + buf.readUInt16LE(12 + 12 * k + 8) * 2 ** 32;

function leaf(buf: Buffer, k: number): { start: number; len: number; physical: number; unwritten: boolean } {
  const e = 12 + 12 * k;
  const raw = buf.readUInt16LE(e + 4);
  return {
    start: buf.readUInt32LE(e),
    len: raw > INIT_MAX_LEN ? raw - INIT_MAX_LEN : raw,
    physical: buf.readUInt32LE(e + 8) + buf.readUInt16LE(e + 6) * 2 ** 32,
    unwritten: raw > INIT_MAX_LEN,
  };
}

/** Checks a node's header and every entry (order, lengths, block ranges) once. */
function parseNode(buf: Buffer, ino: number, what: string, ctx: MapContext): ExtentNode {
  const bad = (why: string) => new ImageFormatError(`ext4: inode ${ino}: ${what}: ${why}`);
  if (buf.readUInt16LE(0) !== EXTENT_MAGIC) throw bad("bad extent header magic");
  const entries = buf.readUInt16LE(2);
  const max = buf.readUInt16LE(4);
  const depth = buf.readUInt16LE(6);
  const capacity = Math.floor((buf.length - 12) / 12);
  if (max > capacity || entries > max)
    throw bad(`${entries} of ${max} entries do not fit (room for ${capacity})`);
  if (depth > MAX_EXTENT_DEPTH) throw bad(`depth ${depth} exceeds ${MAX_EXTENT_DEPTH}`);
  if (depth > 0 && entries === 0) throw bad("empty index node");
  let end = 0; // first logical block after the previous entry
  for (let k = 0; k < entries; k++) {
    const first = start(buf, k);
    if (k > 0 && first < end) throw bad(`entry ${k} (logical block ${first}) is out of order or overlaps`);
    if (depth === 0) {
      const e = leaf(buf, k);
      if (e.len === 0) throw bad(`entry ${k} has length 0`);
      checkBlocks(ctx, e.physical, e.len, `inode ${ino}: extent ${k}`);
      end = first + e.len;
    } else {
      checkBlocks(ctx, indexChild(buf, k), 1, `inode ${ino}: extent index ${k}`);
      end = first + 1;
    }
  }
  return { buf, depth, entries };
}

/** Index of the last entry starting at or before `x`, or -1. */
function lastAtOrBefore(node: ExtentNode, x: number): number {
  let lo = 0;
  let hi = node.entries - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (start(node.buf, mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
