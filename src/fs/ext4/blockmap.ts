/** What the block mappers (extent tree, indirect blocks) share: a run of blocks and their context. */
import { ImageFormatError } from "../../errors.js";

/**
 * Logical blocks [lblk, lblk + count) of a file: either consecutive physical blocks starting at
 * `physical`, or blocks that read as zeros (`zero`: a hole or an unwritten extent). `count` may be
 * Infinity for a hole running to the end of the addressable range.
 */
export interface BlockRun {
  readonly physical: number;
  readonly count: number;
  readonly zero: boolean;
}

export interface MapContext {
  readonly blockSize: number;
  readonly blocksCount: number;
  /** A metadata block, read through the filesystem's cache. */
  metaBlock(block: number): Promise<Buffer>;
}

/** Throws unless physical blocks [block, block + count) lie inside the filesystem (block 0 never holds data). */
export function checkBlocks(ctx: MapContext, block: number, count: number, what: string): void {
  if (block <= 0 || count < 1 || block + count > ctx.blocksCount) {
    throw new ImageFormatError(
      `ext4: ${what} points at block ${block}${count > 1 ? ` (+${count})` : ""}, outside the filesystem (${ctx.blocksCount} blocks)`,
    );
  }
}
