/**
 * ext2/ext3-style block maps: 12 direct pointers in i_block, then a single, a double and a triple
 * indirect block. A zero pointer is a hole. Runs are merged while physical blocks stay consecutive.
 */
import { type BlockRun, checkBlocks, type MapContext } from "./blockmap.js";

const DIRECT = 12;

export async function mapIndirect(
  ctx: MapContext,
  ino: number,
  root: Buffer,
  lblk: number,
): Promise<BlockRun> {
  const perBlock = ctx.blockSize / 4;
  if (lblk < DIRECT) return runIn(ctx, ino, root, lblk, DIRECT);

  // Find which tree (single, double, triple) holds lblk and its offset inside that tree.
  let rel = lblk - DIRECT;
  let span = perBlock; // logical blocks covered by the tree at this level
  for (let level = 1; level <= 3; level++) {
    if (rel < span) {
      let pointer = root.readUInt32LE((DIRECT + level - 1) * 4);
      let covered = span; // logical blocks under `pointer`
      for (let l = level; l > 0; l--) {
        if (pointer === 0) return hole(covered - (rel % covered));
        checkBlocks(ctx, pointer, 1, `inode ${ino}: indirect block`);
        const block = await ctx.metaBlock(pointer);
        covered /= perBlock;
        const index = Math.floor(rel / covered) % perBlock;
        if (l === 1) return runIn(ctx, ino, block, index, perBlock);
        pointer = block.readUInt32LE(index * 4);
      }
    }
    rel -= span;
    span *= perBlock;
  }
  return hole(Number.POSITIVE_INFINITY); // beyond what a block map can address
}

/** The run starting at pointer `index` of a pointer array holding `n` pointers. */
function runIn(ctx: MapContext, ino: number, ptrs: Buffer, index: number, n: number): BlockRun {
  const first = ptrs.readUInt32LE(index * 4);
  let count = 1;
  while (index + count < n) {
    const next = ptrs.readUInt32LE((index + count) * 4);
    if (first === 0 ? next !== 0 : next !== first + count) break;
    count++;
  }
  if (first === 0) return hole(count);
  checkBlocks(ctx, first, count, `inode ${ino}: block pointer`);
  return { physical: first, count, zero: false };
}

function hole(count: number): BlockRun {
  return { physical: 0, count, zero: true };
}
