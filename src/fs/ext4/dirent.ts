/**
 * Linear directory entries (ext4_dir_entry_2). htree directories are read the same way: their dx root
 * and node blocks look like blocks holding one unused entry, and the metadata_csum tail is an
 * unused 12-byte entry, so a linear walk skips them.
 */
import { ImageFormatError } from "../../errors.js";

export interface RawDirEntry {
  readonly ino: number;
  /** The name bytes as stored (ciphertext in an encrypted directory). */
  readonly name: Buffer;
  /** With casefold + encrypt: the hash stored after the name. */
  readonly storedHash?: { hash: number; minor: number };
}

const MIN_REC_LEN = 12;

/**
 * Entries of one directory block (or inline region) in on-disk order, skipping unused ones and `.`/`..`.
 * `blockSize` decides the rec_len encoding (64 KiB blocks store 65536 as 0 or 65535).
 */
export function parseDirBlock(
  buf: Buffer,
  opts: { ino: number; blockSize: number; inodesCount: number; hashAfterName: boolean },
  out: RawDirEntry[],
): void {
  const bad = (off: number, why: string) =>
    new ImageFormatError(`ext4: directory inode ${opts.ino}: entry at byte ${off}: ${why}`);
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) throw bad(off, "truncated entry header");
    const ino = buf.readUInt32LE(off);
    const recLen = decodeRecLen(buf.readUInt16LE(off + 4), opts.blockSize);
    const nameLen = buf[off + 6]!;
    if (recLen < MIN_REC_LEN || recLen % 4 !== 0) throw bad(off, `invalid rec_len ${recLen}`);
    if (off + recLen > buf.length) throw bad(off, `rec_len ${recLen} runs past the end of the block`);
    if (ino !== 0) {
      if (nameLen === 0 || 8 + nameLen > recLen)
        throw bad(off, `name length ${nameLen} does not fit rec_len ${recLen}`);
      if (ino > opts.inodesCount) throw bad(off, `inode ${ino} is out of range (${opts.inodesCount} inodes)`);
      const name = buf.subarray(off + 8, off + 8 + nameLen);
      const dot = nameLen <= 2 && name.every((c) => c === 0x2e);
      if (!dot) {
        const hashAt = off + ((8 + nameLen + 3) & ~3);
        if (opts.hashAfterName && hashAt + 8 <= off + recLen) {
          out.push({
            ino,
            name,
            storedHash: { hash: buf.readUInt32LE(hashAt), minor: buf.readUInt32LE(hashAt + 4) },
          });
        } else out.push({ ino, name });
      }
    }
    off += recLen;
  }
}

function decodeRecLen(raw: number, blockSize: number): number {
  if (blockSize < 65536) return raw;
  if (raw === 65535 || raw === 0) return 65536;
  return (raw & 65532) | ((raw & 3) << 16);
}
