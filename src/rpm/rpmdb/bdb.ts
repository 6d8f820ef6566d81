/**
 * Berkeley DB hash reader for rpm's `Packages` (AlmaLinux 8 and older), read-only, from a Buffer.
 * Walks the buckets in order as rpm's own reader does (lib/backend/bdb_ro.cc): the hash meta page,
 * each bucket's page chain, and overflow (big item) chains. Both byte orders. Every page number is
 * range-checked and every page may be visited once per walk, so a corrupt file cannot loop or overrun.
 */
import { RpmFormatError } from "../../errors.js";

const HASH_MAGIC = 0x061561;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const PAGE_HEADER = 26;

export interface BdbRecord {
  readonly key: Buffer;
  readonly value: Buffer;
}

interface Meta {
  le: boolean;
  pageSize: number;
  lastPage: number;
  maxBucket: number;
  spares: number[];
}

type RecordVisitor = (key: Buffer, value: Buffer) => void;

/** Every key/value pair of a BDB hash database, in bucket-walk order (copied). */
export function readBdbHash(file: Buffer, what = "Packages"): BdbRecord[] {
  const records: BdbRecord[] = [];
  forEachBdbRecord(
    file,
    (key, value) => records.push({ key: Buffer.from(key), value: Buffer.from(value) }),
    what,
  );
  return records;
}

/**
 * rpm's header blobs by instance number, in bucket-walk order (`visit(instance, blob)`, the blob valid
 * during the call only). The key is the instance in the file's byte order; instance 0 holds rpm's
 * next-instance counter and is skipped.
 */
export function forEachBdbPackage(
  file: Buffer,
  visit: (instance: number, blob: Buffer) => void,
  what = "Packages",
): void {
  const le = bdbIsLittleEndian(file);
  forEachBdbRecord(
    file,
    (key, value) => {
      if (key.length !== 4) throw new RpmFormatError(`${what}: key of ${key.length} bytes (expected 4)`);
      const instance = le ? key.readUInt32LE(0) : key.readUInt32BE(0);
      if (instance !== 0) visit(instance, value);
    },
    what,
  );
}

/**
 * Calls `visit(key, value)` for every pair of a BDB hash database, in bucket-walk order. Both are valid
 * during the call only: an off-page item is assembled in memory reused for the next one (fresh memory
 * for each header cost as much again as reading the file).
 */
export function forEachBdbRecord(file: Buffer, visit: RecordVisitor, what = "Packages"): void {
  const fail = (why: string) => new RpmFormatError(`${what} (Berkeley DB): ${why}`);
  const meta = readMeta(file, fail);
  const { le, pageSize } = meta;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));

  function page(pgno: number, kind: string): Buffer;
  function page(pgno: number, kind: string, mayBeBlank: true): Buffer | null;
  function page(pgno: number, kind: string, mayBeBlank = false): Buffer | null {
    if (pgno < 1 || pgno > meta.lastPage) throw fail(`${kind} page ${pgno} is outside 1..${meta.lastPage}`);
    const start = pgno * pageSize;
    if (start + pageSize > file.length) throw fail(`${kind} page ${pgno} lies past the end of the file`);
    const p = file.subarray(start, start + pageSize);
    if (u32(p, 8) !== pgno) {
      // Berkeley DB allocates bucket pages before it writes them; an all-zero one is an empty bucket.
      // (rpm's bdb_ro gives up on it; libdb, which wrote the file, reads it as empty.)
      if (mayBeBlank && u32(p, 8) === 0 && isZero(p)) return null;
      throw fail(`page ${pgno} says it is page ${u32(p, 8)}`);
    }
    return p;
  }

  const visited = new Set<number>();
  const claim = (pgno: number) => {
    if (visited.has(pgno)) throw fail(`page ${pgno} is reached twice (a page loop)`);
    visited.add(pgno);
  };

  // An item cannot be longer than all the pages after the meta page could hold.
  const maxItem = meta.lastPage * (pageSize - PAGE_HEADER);
  // An off-page key and an off-page value of one pair are assembled side by side.
  const scratch = { key: Buffer.allocUnsafe(0), value: Buffer.allocUnsafe(0) };
  const overflow = (first: number, length: number, slot: "key" | "value"): Buffer => {
    if (length === 0) throw fail("empty overflow item");
    if (length > maxItem) throw fail(`overflow item of ${length} bytes cannot fit in ${meta.lastPage} pages`);
    if (scratch[slot].length < length)
      scratch[slot] = Buffer.allocUnsafe(Math.max(length, 2 * scratch[slot].length));
    const out = scratch[slot];
    let done = 0;
    let pgno = first;
    while (done < length) {
      claim(pgno);
      const p = page(pgno, "overflow");
      if (p[25] !== P_OVERFLOW) throw fail(`page ${pgno} has type ${p[25]}, expected an overflow page`);
      const n = u16(p, 22);
      if (PAGE_HEADER + n > pageSize || n > length - done)
        throw fail(`overflow page ${pgno} holds ${n} bytes`);
      if (n === 0) throw fail(`overflow page ${pgno} is empty`);
      p.copy(out, done, PAGE_HEADER, PAGE_HEADER + n);
      done += n;
      pgno = u32(p, 16);
    }
    return out.subarray(0, length);
  };

  const item = (p: Buffer, pgno: number, offset: number, length: number, slot: "key" | "value"): Buffer => {
    if (length <= 0 || offset < PAGE_HEADER || offset + length > pageSize) {
      throw fail(`page ${pgno}: item at ${offset} (${length} bytes) is outside the page`);
    }
    const type = p[offset];
    if (type === H_KEYDATA) return p.subarray(offset + 1, offset + length);
    if (type === H_OFFPAGE) {
      if (length !== 12) throw fail(`page ${pgno}: off-page item of ${length} bytes (expected 12)`);
      return overflow(u32(p, offset + 4), u32(p, offset + 8), slot);
    }
    throw fail(`page ${pgno}: unsupported item type ${type}`);
  };

  for (let bucket = 0; bucket <= meta.maxBucket; bucket++) {
    let pgno = bucketPage(meta, bucket);
    while (pgno !== 0) {
      claim(pgno);
      const p = page(pgno, `bucket ${bucket}`, true);
      if (p === null) break; // never initialized: an empty bucket
      const type = p[25];
      if (type !== P_HASH && type !== P_HASH_UNSORTED && type !== P_HASHMETA) {
        throw fail(`page ${pgno} has type ${type}, expected a hash page`);
      }
      const n = u16(p, 20);
      if (n % 2 !== 0 || PAGE_HEADER + 2 * n > pageSize) throw fail(`page ${pgno} claims ${n} items`);
      // Items grow down from the end of the page; each one ends where the previous one starts.
      let prevOffset = pageSize;
      for (let i = 0; i < n; i += 2) {
        const keyOffset = u16(p, PAGE_HEADER + 2 * i);
        const valueOffset = u16(p, PAGE_HEADER + 2 * i + 2);
        if (keyOffset >= prevOffset || valueOffset >= keyOffset) {
          throw fail(`page ${pgno}: item offsets ${keyOffset}/${valueOffset} are out of order`);
        }
        const key = item(p, pgno, keyOffset, prevOffset - keyOffset, "key");
        const value = item(p, pgno, valueOffset, keyOffset - valueOffset, "value");
        visit(key, value);
        prevOffset = valueOffset;
      }
      pgno = u32(p, 16);
    }
  }
}

function readMeta(file: Buffer, fail: (why: string) => RpmFormatError): Meta {
  if (file.length < 512) throw fail(`file of ${file.length} bytes is too short for a meta page`);
  let le: boolean;
  if (file.readUInt32LE(12) === HASH_MAGIC) le = true;
  else if (file.readUInt32BE(12) === HASH_MAGIC) le = false;
  else throw fail(`not a Berkeley DB hash database (magic ${file.toString("hex", 12, 16)})`);
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const version = u32(16);
  if (version < 8 || version > 10) throw fail(`unsupported hash version ${version} (8..10)`);
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw fail(`invalid page size ${pageSize}`);
  }
  if (file[24] !== 0) throw fail("encrypted databases are not supported");
  const lastPage = u32(32);
  const maxBucket = u32(72);
  if (maxBucket > lastPage) throw fail(`max bucket ${maxBucket} exceeds the last page ${lastPage}`);
  const spares: number[] = [];
  for (let i = 0; i < 32; i++) spares.push(u32(96 + 4 * i));
  return { le, pageSize, lastPage, maxBucket, spares };
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Bucket b lives on page b + spares[bit length of b]. */
function bucketPage(meta: Meta, bucket: number): number {
  let bits = 0;
  for (let b = bucket; b; b >>>= 1) bits++;
  return (bucket + meta.spares[bits]!) >>> 0;
}

/** The byte order the database was written in (rpm's keys use it too). */
export function bdbIsLittleEndian(file: Buffer): boolean {
  return file.length >= 16 && file.readUInt32LE(12) === HASH_MAGIC;
}
