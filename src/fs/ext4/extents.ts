/**
 * The ext4 extent tree: a root of up to 4 entries in i_block, index nodes and leaves in blocks.
 * Each node is validated once when read (magic, counts, depth, order, block ranges) and cached parsed.
 */
import { ImageFormatError } from "../../errors.js";
import { type BlockRun, checkBlocks, type MapContext } from "./blockmap.js";
import { Lru } from "./lru.js";

const EXTENT_MAGIC = 0xf30a;
/** The kernel's limit; a deeper tree is corrupt. */
export const MAX_EXTENT_DEPTH = 5;
/** ee_len above this marks an unwritten (preallocated) extent of ee_len - 32768 blocks. */
const INIT_MAX_LEN = 32768;

interface ExtentNode {
  readonly depth: number;
  /** Leaf: first logical block of each extent; index: first logical block each child covers. */
  readonly starts: readonly number[];
  /** Leaf: length of each extent; unused for index nodes. */
  readonly lengths: readonly number[];
  /** Leaf: first physical block; index: the child node's block. */
  readonly physical: readonly number[];
  readonly unwritten: readonly boolean[];
}

export class ExtentMapper {
  private readonly nodes = new Lru<number, ExtentNode>(256);

  constructor(private readonly ctx: MapContext) {}

  /** The run of blocks starting at logical block `lblk` of inode `ino` whose i_block is `root`. */
  async map(ino: number, root: Buffer, lblk: number): Promise<BlockRun> {
    let node = parseNode(root, ino, "extent tree root", this.ctx);
    // First logical block past the subtree we are in: where a hole at the end of a leaf stops.
    let upper = Number.POSITIVE_INFINITY;
    for (;;) {
      const i = lastAtOrBefore(node.starts, lblk);
      if (node.depth === 0) {
        if (i >= 0 && lblk < node.starts[i]! + node.lengths[i]!) {
          const into = lblk - node.starts[i]!;
          return {
            physical: node.physical[i]! + into,
            count: node.lengths[i]! - into,
            zero: node.unwritten[i]!,
          };
        }
        const next = i + 1 < node.starts.length ? node.starts[i + 1]! : upper;
        return { physical: 0, count: Math.min(next, upper) - lblk, zero: true };
      }
      if (i < 0) return { physical: 0, count: Math.min(node.starts[0]!, upper) - lblk, zero: true };
      if (i + 1 < node.starts.length) upper = Math.min(upper, node.starts[i + 1]!);
      const child = await this.node(node.physical[i]!, ino);
      if (child.depth !== node.depth - 1) {
        throw new ImageFormatError(
          `ext4: inode ${ino}: extent node at block ${node.physical[i]} has depth ${child.depth}, expected ${node.depth - 1}`,
        );
      }
      node = child;
    }
  }

  private async node(block: number, ino: number): Promise<ExtentNode> {
    const cached = this.nodes.get(block);
    if (cached) return cached;
    const node = parseNode(await this.ctx.metaBlock(block), ino, `extent node at block ${block}`, this.ctx);
    this.nodes.set(block, node);
    return node;
  }
}

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

  const starts: number[] = [];
  const lengths: number[] = [];
  const physical: number[] = [];
  const unwritten: boolean[] = [];
  let end = 0; // first logical block after the previous entry
  for (let k = 0; k < entries; k++) {
    const e = 12 + 12 * k;
    const start = buf.readUInt32LE(e);
    if (k > 0 && start < end) throw bad(`entry ${k} (logical block ${start}) is out of order or overlaps`);
    if (depth === 0) {
      const raw = buf.readUInt16LE(e + 4);
      const len = raw > INIT_MAX_LEN ? raw - INIT_MAX_LEN : raw;
      if (len === 0) throw bad(`entry ${k} has length 0`);
      const pblk = buf.readUInt32LE(e + 8) + buf.readUInt16LE(e + 6) * 2 ** 32;
      checkBlocks(ctx, pblk, len, `inode ${ino}: extent ${k}`);
      starts.push(start);
      lengths.push(len);
      physical.push(pblk);
      unwritten.push(raw > INIT_MAX_LEN);
      end = start + len;
    } else {
      const child = buf.readUInt32LE(e + 4) + buf.readUInt16LE(e + 8) * 2 ** 32;
      checkBlocks(ctx, child, 1, `inode ${ino}: extent index ${k}`);
      starts.push(start);
      lengths.push(0);
      physical.push(child);
      unwritten.push(false);
      end = start + 1;
    }
  }
  return { depth, starts, lengths, physical, unwritten };
}

/** Index of the last element <= x in an ascending array, or -1. */
function lastAtOrBefore(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
