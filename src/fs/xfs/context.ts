/** What every part of the XFS reader needs: the superblock, address arithmetic and the block cache. */
import { ImageFormatError } from "../../errors.js";
import { xfsCrcOk } from "../crc32c.js";
import type { BlockCache } from "./cache.js";
import type { XfsGeometry } from "./geometry.js";
import type { XfsSuperblock } from "./superblock.js";

export interface XfsContext {
  readonly sb: XfsSuperblock;
  readonly geo: XfsGeometry;
  readonly cache: BlockCache;
}

/**
 * Checks the self-describing header fields of a v5 metadata block: checksum, disk address (in 512-byte
 * units), owner inode and filesystem UUID. `what` names the block in error messages.
 */
export function checkV5Header(
  ctx: XfsContext,
  buf: Buffer,
  at: { crc: number; blkno: number; uuid: number; owner: number },
  expect: { byteOffset: number; owner: number },
  what: string,
): void {
  if (!xfsCrcOk(buf, at.crc)) throw new ImageFormatError(`xfs: ${what}: checksum mismatch`);
  const blkno = buf.readBigUInt64BE(at.blkno);
  if (blkno !== BigInt(expect.byteOffset / 512)) {
    throw new ImageFormatError(
      `xfs: ${what}: block records its address as ${blkno}, read from ${expect.byteOffset / 512}`,
    );
  }
  if (!buf.subarray(at.uuid, at.uuid + 16).equals(ctx.sb.metaUuid)) {
    throw new ImageFormatError(`xfs: ${what}: block belongs to another filesystem (UUID mismatch)`);
  }
  const owner = buf.readBigUInt64BE(at.owner);
  if (owner !== BigInt(expect.owner)) {
    throw new ImageFormatError(`xfs: ${what}: block is owned by inode ${owner}, not ${expect.owner}`);
  }
}
