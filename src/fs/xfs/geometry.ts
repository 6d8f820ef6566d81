/**
 * Address arithmetic: inode numbers and filesystem block numbers encode an allocation group in their
 * high bits (sb_agblklog wide AG block numbers), so they are not linear. Every conversion here is
 * bounds-checked against the superblock geometry.
 */
import { ImageFormatError } from "../../errors.js";
import type { XfsSuperblock } from "./superblock.js";

export interface InodeLocation {
  /** Byte offset of the filesystem block holding the inode. */
  readonly blockOffset: number;
  /** Byte offset of the inode inside that block. */
  readonly offsetInBlock: number;
}

export class XfsGeometry {
  private readonly agBlockSpan: number; // 2^agblklog
  private readonly inoAgSpan: number; // 2^(agblklog + inopblog)
  private readonly inodesPerBlock: number;

  constructor(readonly sb: XfsSuperblock) {
    this.agBlockSpan = 2 ** sb.agBlkLog;
    this.inodesPerBlock = 2 ** sb.inodesPerBlockLog;
    this.inoAgSpan = this.agBlockSpan * this.inodesPerBlock;
  }

  /** Blocks in allocation group `agno` (the last one may be shorter). */
  private agLength(agno: number): number {
    const { sb } = this;
    return agno === sb.agCount - 1 ? sb.dBlocks - agno * sb.agBlocks : sb.agBlocks;
  }

  /** Where inode `ino` lives; throws when the number cannot name an inode of this filesystem. */
  inodeLocation(ino: number): InodeLocation {
    if (!Number.isSafeInteger(ino) || ino <= 0)
      throw new ImageFormatError(`xfs: invalid inode number ${ino}`);
    if (!this.isValidIno(ino))
      throw new ImageFormatError(`xfs: inode number ${ino} lies outside the filesystem`);
    const agno = Math.floor(ino / this.inoAgSpan);
    const agino = ino - agno * this.inoAgSpan;
    const agbno = Math.floor(agino / this.inodesPerBlock);
    const index = agino - agbno * this.inodesPerBlock;
    const block = agno * this.sb.agBlocks + agbno;
    return { blockOffset: block * this.sb.blockSize, offsetInBlock: index * this.sb.inodeSize };
  }

  /**
   * True when `ino` could name an inode (without reading it), without building a location: every entry
   * of every directory read is checked (thousands on a whole image). inodeLocation relies on it.
   */
  isValidIno(ino: number): boolean {
    if (!Number.isSafeInteger(ino) || ino <= 0) return false;
    const agno = Math.floor(ino / this.inoAgSpan);
    if (agno >= this.sb.agCount) return false;
    // agino / inodesPerBlock < agLength, for whole numbers
    return ino - agno * this.inoAgSpan < this.agLength(agno) * this.inodesPerBlock;
  }

  /**
   * Linear block index (0 = first block of the filesystem) of the run of `count` blocks starting at
   * filesystem block number `fsbno`. A run may not cross an allocation group's end.
   */
  linearBlock(fsbno: number, count: number, what: string): number {
    if (!Number.isSafeInteger(fsbno) || fsbno < 0 || !Number.isSafeInteger(count) || count < 1) {
      throw new ImageFormatError(`xfs: ${what}: invalid block run ${fsbno}+${count}`);
    }
    const agno = Math.floor(fsbno / this.agBlockSpan);
    const agbno = fsbno - agno * this.agBlockSpan;
    if (agno >= this.sb.agCount || agbno + count > this.agLength(agno)) {
      throw new ImageFormatError(`xfs: ${what}: block run ${fsbno}+${count} lies outside the filesystem`);
    }
    return agno * this.sb.agBlocks + agbno;
  }

  /** Byte offset of the filesystem block `fsbno` (a single block). */
  blockOffset(fsbno: number, what: string): number {
    return this.linearBlock(fsbno, 1, what) * this.sb.blockSize;
  }
}
