/** CRC-32C (Castagnoli): the checksum of v5 XFS metadata blocks and of ext4 metadata_csum. */

const TABLE = (() => {
  const t = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  // Slicing-by-8 tables: t[k * 256 + i] is the CRC of byte i followed by k zero bytes.
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** Feeds `buf[start, end)` into a running CRC register (no pre/post inversion). */
function update(crc: number, buf: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    crc =
      t[7 * 256 + (a & 0xff)]! ^
      t[6 * 256 + ((a >>> 8) & 0xff)]! ^
      t[5 * 256 + ((a >>> 16) & 0xff)]! ^
      t[4 * 256 + (a >>> 24)]! ^
      t[3 * 256 + buf[i + 4]!]! ^
      t[2 * 256 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ t[(crc ^ buf[i]!) & 0xff]!;
  return crc >>> 0;
}

/**
 * Feeds `buf` into a running register without pre- or post-inversion, as ext4's checksums chain it
 * (the kernel's and e2fsprogs' crc32c(crc, buf, len)).
 */
export function crc32cRaw(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  return update(crc >>> 0, buf, start, end);
}

/** The standard CRC-32C of `buf`. */
export function crc32c(buf: Uint8Array): number {
  return ~update(0xffffffff, buf, 0, buf.length) >>> 0;
}

/**
 * The CRC-32C of `buf` computed as if its four checksum bytes at `crcOffset` were zero, which is how
 * XFS checksums a block that stores its own checksum.
 */
export function crc32cSkipping(buf: Uint8Array, crcOffset: number): number {
  let c = update(0xffffffff, buf, 0, crcOffset);
  c = update(c, ZERO4, 0, 4);
  c = update(c, buf, crcOffset + 4, buf.length);
  return ~c >>> 0;
}

const ZERO4 = new Uint8Array(4);

/** True when the little-endian checksum stored at `crcOffset` matches the block's contents. */
export function xfsCrcOk(buf: Buffer, crcOffset: number): boolean {
  return buf.readUInt32LE(crcOffset) === crc32cSkipping(buf, crcOffset);
}
