import { describe, expect, it } from "vitest";
import { XfsGeometry } from "../../../src/fs/xfs/geometry.js";
import type { XfsSuperblock } from "../../../src/fs/xfs/superblock.js";

// 3 allocation groups of 1000 blocks (agblklog 10: AG block numbers span 1024), the last one 700 blocks
// long; 16 inodes per 4 KiB block (inopblog 4). Inode numbers: agno << 14 | agbno << 4 | index.
const sb = {
  agBlkLog: 10,
  inodesPerBlockLog: 4,
  agCount: 3,
  agBlocks: 1000,
  dBlocks: 2700,
  blockSize: 4096,
  inodeSize: 256,
} as XfsSuperblock;
const geo = new XfsGeometry(sb);
const ino = (agno: number, agbno: number, index: number) => agno * 2 ** 14 + agbno * 16 + index;
const located = (n: number) => {
  try {
    geo.inodeLocation(n);
    return true;
  } catch {
    return false;
  }
};

describe("XfsGeometry.isValidIno", () => {
  it("agrees with inodeLocation at every edge of the geometry", () => {
    const candidates = [
      0,
      -1,
      1.5,
      2 ** 53,
      ino(0, 0, 1),
      ino(0, 999, 15),
      ino(0, 1000, 0), // past AG 0's blocks, inside its number span
      ino(0, 1023, 15),
      ino(1, 0, 0),
      ino(1, 999, 15),
      ino(2, 699, 15), // the last block of the short last AG
      ino(2, 700, 0), // one past it
      ino(2, 999, 15),
      ino(3, 0, 0), // no fourth AG
    ];
    const valid = candidates.filter((n) => geo.isValidIno(n));
    expect(valid).toEqual(candidates.filter(located));
    expect(valid).toEqual([ino(0, 0, 1), ino(0, 999, 15), ino(1, 0, 0), ino(1, 999, 15), ino(2, 699, 15)]);
  });

  it("locates an inode in its block", () => {
    expect(geo.inodeLocation(ino(1, 2, 3))).toEqual({
      blockOffset: (1000 + 2) * 4096,
      offsetInBlock: 3 * 256,
    });
  });
});
