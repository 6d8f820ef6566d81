/**
 * The extent of the zstd frame at the start of a buffer, found by walking its block headers
 * (RFC 8878). qemu pads compressed clusters to whole sectors, and a decoder would read the padding
 * as a second frame; cutting the frame off first avoids that.
 */

const ZSTD_MAGIC = 0xfd2fb528;
const MAX_BLOCKS = 1 << 20;

export interface ZstdFrame {
  /** Bytes of the frame, checksum included. */
  readonly length: number;
  /** The decompressed size the frame header declares, if it declares one. */
  readonly contentSize?: number;
}

export function zstdFrame(buf: Uint8Array): ZstdFrame {
  if (buf.length < 6) throw new Error("truncated zstd frame header");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) throw new Error("not a zstd frame");
  const descriptor = buf[4]!;
  if (descriptor & 0x08) throw new Error("reserved bit set in the zstd frame header");
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const hasChecksum = (descriptor >> 2) & 1;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 3]!;
  const contentSizeBytes = contentSizeFlag === 0 ? singleSegment : [1, 2, 4, 8][contentSizeFlag]!;
  const sizeAt = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  let at = sizeAt + contentSizeBytes;
  if (at > buf.length) throw new Error("truncated zstd frame header");
  let contentSize: number | undefined;
  if (contentSizeBytes === 1) contentSize = view.getUint8(sizeAt);
  else if (contentSizeBytes === 2) contentSize = view.getUint16(sizeAt, true) + 256;
  else if (contentSizeBytes === 4) contentSize = view.getUint32(sizeAt, true);
  else if (contentSizeBytes === 8) contentSize = Number(view.getBigUint64(sizeAt, true));
  for (let blocks = 0; ; blocks++) {
    if (blocks >= MAX_BLOCKS) throw new Error("too many zstd blocks");
    if (at + 3 > buf.length) throw new Error("truncated zstd block header");
    const header = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16);
    at += 3;
    const last = header & 1;
    const type = (header >> 1) & 3;
    if (type === 3) throw new Error("reserved zstd block type");
    at += type === 1 ? 1 : header >>> 3;
    if (at > buf.length) throw new Error("truncated zstd block");
    if (last) break;
  }
  if (hasChecksum) at += 4;
  if (at > buf.length) throw new Error("truncated zstd checksum");
  return contentSize === undefined ? { length: at } : { length: at, contentSize };
}
