/**
 * metadata_csum checksums of the structures that hold extended attributes: the inode (which covers the
 * in-inode attribute area) and the attribute block. Each is a CRC-32C chained from the filesystem's
 * seed, computed with its own checksum field taken as zero.
 */
import { crc32cRaw } from "../crc32c.js";
import { XATTR_BLOCK_CSUM } from "./xattr.js";

const GOOD_OLD_INODE_SIZE = 128;
const I_GENERATION = 0x64;
const I_CHECKSUM_LO = 0x7c;
const I_EXTRA_ISIZE = 0x80;
const I_CHECKSUM_HI = 0x82;
const ZERO = new Uint8Array(4);

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** True when inode `ino`'s raw bytes match their stored checksum (16 bits, or 32 with i_checksum_hi). */
export function inodeChecksumOk(raw: Buffer, ino: number, seed: number): boolean {
  let c = crc32cRaw(seed, le32(ino));
  c = crc32cRaw(c, raw, I_GENERATION, I_GENERATION + 4);
  c = crc32cRaw(c, raw, 0, I_CHECKSUM_LO);
  c = crc32cRaw(c, ZERO, 0, 2);
  c = crc32cRaw(c, raw, I_CHECKSUM_LO + 2, GOOD_OLD_INODE_SIZE);
  let hasHi = false;
  if (raw.length > GOOD_OLD_INODE_SIZE) {
    hasHi = GOOD_OLD_INODE_SIZE + raw.readUInt16LE(I_EXTRA_ISIZE) >= I_CHECKSUM_HI + 2;
    c = crc32cRaw(c, raw, GOOD_OLD_INODE_SIZE, I_CHECKSUM_HI);
    let rest = I_CHECKSUM_HI;
    if (hasHi) {
      c = crc32cRaw(c, ZERO, 0, 2);
      rest += 2;
    }
    c = crc32cRaw(c, raw, rest, raw.length);
  }
  const stored = raw.readUInt16LE(I_CHECKSUM_LO) + (hasHi ? raw.readUInt16LE(I_CHECKSUM_HI) * 0x10000 : 0);
  return (hasHi ? c >>> 0 : c & 0xffff) === stored;
}

/** True when the attribute block at filesystem block `block` matches its stored checksum. */
export function xattrBlockChecksumOk(buf: Buffer, block: number, seed: number): boolean {
  const nr = Buffer.alloc(8);
  nr.writeBigUInt64LE(BigInt(block));
  let c = crc32cRaw(seed, nr);
  c = crc32cRaw(c, buf, 0, XATTR_BLOCK_CSUM);
  c = crc32cRaw(c, ZERO, 0, 4);
  c = crc32cRaw(c, buf, XATTR_BLOCK_CSUM + 4, buf.length);
  return c >>> 0 === buf.readUInt32LE(XATTR_BLOCK_CSUM);
}
