/**
 * rpm's NDB `Packages.db` (SUSE), read-only from a Buffer: a 32-byte header, slot pages mapping package
 * indexes to blob locations, and blobs framed by a head and a tail with an Adler-32 checksum
 * (rpm's lib/backend/ndb/rpmpkg.c). All integers little-endian.
 */
import { RpmFormatError } from "../../errors.js";

const PKGDB_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOBHEAD_MAGIC = 0x53626c42; // "BlbS"
const BLOBTAIL_MAGIC = 0x45626c42; // "BlbE"
const PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLK_SIZE = 16;
const HEADER_SIZE = 32;
const BLOBHEAD_SIZE = 16;
const BLOBTAIL_SIZE = 12;

export interface NdbRecord {
  readonly pkgIndex: number;
  readonly blob: Buffer;
}

interface Slot {
  pkgIndex: number;
  blkOffset: number;
  blkCount: number;
}

/** Every package blob, in rpm's listing order (by blob position in the file). */
export function readNdb(file: Buffer, what = "Packages.db"): NdbRecord[] {
  const fail = (why: string) => new RpmFormatError(`${what} (ndb): ${why}`);
  if (file.length < HEADER_SIZE) throw fail(`file of ${file.length} bytes is too short`);
  if (file.readUInt32LE(0) !== PKGDB_MAGIC)
    throw fail(`bad magic ${file.toString("hex", 0, 4)} (expected "RpmP")`);
  const version = file.readUInt32LE(4);
  if (version !== 0) throw fail(`unsupported version ${version} (0)`);
  const slotPages = file.readUInt32LE(12);
  if (slotPages < 1 || slotPages * PAGE_SIZE > file.length) {
    throw fail(`${slotPages} slot pages do not fit in the file (${file.length} bytes)`);
  }
  if (file.length % BLK_SIZE !== 0) throw fail(`file size ${file.length} is not a multiple of ${BLK_SIZE}`);
  const fileBlocks = file.length / BLK_SIZE;
  const firstBlob = (slotPages * PAGE_SIZE) / BLK_SIZE;

  const slots: Slot[] = [];
  for (let o = HEADER_SIZE; o < slotPages * PAGE_SIZE; o += SLOT_SIZE) {
    if (file.readUInt32LE(o) !== SLOT_MAGIC) throw fail(`slot at byte ${o} has a bad magic`);
    const blkOffset = file.readUInt32LE(o + 8);
    if (blkOffset === 0) continue; // free slot
    const pkgIndex = file.readUInt32LE(o + 4);
    const blkCount = file.readUInt32LE(o + 12);
    if (pkgIndex === 0 || blkCount === 0 || blkOffset < firstBlob) {
      throw fail(
        `slot at byte ${o} is invalid (package ${pkgIndex}, block ${blkOffset}, ${blkCount} blocks)`,
      );
    }
    if (blkOffset + blkCount > fileBlocks)
      throw fail(`package ${pkgIndex}'s blob runs past the end of the file`);
    slots.push({ pkgIndex, blkOffset, blkCount });
  }
  // rpm lists packages ordered by blob offset (rpmpkgOrderSlots); blobs must not overlap.
  slots.sort((a, b) => a.blkOffset - b.blkOffset);
  const seen = new Set<number>();
  let end = firstBlob;
  for (const s of slots) {
    if (s.blkOffset < end) throw fail(`package ${s.pkgIndex}'s blob overlaps another`);
    if (seen.has(s.pkgIndex)) throw fail(`package index ${s.pkgIndex} has two slots`);
    seen.add(s.pkgIndex);
    end = s.blkOffset + s.blkCount;
  }
  return slots.map((s) => ({ pkgIndex: s.pkgIndex, blob: readBlob(file, s, fail) }));
}

function readBlob(file: Buffer, s: Slot, fail: (why: string) => RpmFormatError): Buffer {
  const start = s.blkOffset * BLK_SIZE;
  const size = s.blkCount * BLK_SIZE;
  const bad = (why: string) => fail(`package ${s.pkgIndex}: ${why}`);
  if (size < BLOBHEAD_SIZE + BLOBTAIL_SIZE) throw bad(`blob of ${size} bytes is too small`);
  if (file.readUInt32LE(start) !== BLOBHEAD_MAGIC) throw bad("bad blob head magic");
  if (file.readUInt32LE(start + 4) !== s.pkgIndex)
    throw bad(`blob belongs to package ${file.readUInt32LE(start + 4)}`);
  const length = file.readUInt32LE(start + 12);
  if (Math.ceil((BLOBHEAD_SIZE + length + BLOBTAIL_SIZE) / BLK_SIZE) !== s.blkCount) {
    throw bad(`blob length ${length} does not match its ${s.blkCount} blocks`);
  }
  const tail = start + size - BLOBTAIL_SIZE;
  if (file.readUInt32LE(tail + 8) !== BLOBTAIL_MAGIC) throw bad("bad blob tail magic");
  if (file.readUInt32LE(tail + 4) !== length) throw bad("blob head and tail disagree on its length");
  const expected = file.readUInt32LE(tail);
  const actual = adler32(file.subarray(start, tail));
  if (expected !== actual)
    throw bad(`checksum mismatch (stored ${hex8(expected)}, computed ${hex8(actual)})`);
  return Buffer.from(file.subarray(start + BLOBHEAD_SIZE, start + BLOBHEAD_SIZE + length));
}

/** Adler-32 (RFC 1950). */
export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  const NMAX = 5552;
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(buf.length, i + NMAX);
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
