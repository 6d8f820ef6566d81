/**
 * Applies a SQLite write-ahead log to a copy of its database, as SQLite's own recovery does: frames are
 * valid while their salts match the WAL header and their cumulative checksums chain; the pages of every
 * transaction up to the last valid commit frame are written, later (uncommitted) frames are ignored.
 * A log SQLite would ignore (foreign magic, bad header checksum) is ignored; one it refuses to open
 * (unknown format version) is an RpmFormatError.
 * Format: https://www.sqlite.org/fileformat2.html#walformat
 */
import { RpmFormatError } from "../../errors.js";

const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

export interface WalResult {
  /** The database with the committed frames applied and the header switched out of WAL mode. */
  readonly database: Buffer;
  /** Frames applied (up to and including the last valid commit frame). */
  readonly framesApplied: number;
  /** Valid frames after the last commit, ignored. */
  readonly framesIgnored: number;
}

/** Cumulative WAL checksum over `data` (a multiple of 8 bytes), continuing from (s0, s1). */
export function walChecksum(data: Buffer, bigEndian: boolean, s0 = 0, s1 = 0): [number, number] {
  let a = s0;
  let b = s1;
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    a = (a + x0 + b) >>> 0;
    b = (b + x1 + a) >>> 0;
  }
  return [a, b];
}

/** Page size from a database header (offset 16; 1 means 65536); null when the file is empty. */
function dbPageSize(db: Buffer): number | null {
  if (db.length === 0) return null;
  if (db.length < 100 || db.toString("latin1", 0, 16) !== "SQLite format 3\0") {
    throw new RpmFormatError("rpmdb.sqlite: not an SQLite 3 database");
  }
  const v = db.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

export function applyWal(db: Buffer, wal: Buffer): WalResult {
  const fail = (why: string) => new RpmFormatError(`rpmdb.sqlite-wal: ${why}`);
  if (wal.length < WAL_HEADER) {
    // A WAL shorter than its header holds nothing SQLite would use.
    return { database: leaveWalMode(Buffer.from(db)), framesApplied: 0, framesIgnored: 0 };
  }
  const magic = wal.readUInt32BE(0);
  const pageSize = wal.readUInt32BE(8);
  // Like SQLite's recovery: a log with a foreign magic or an impossible page size holds nothing.
  if (
    (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) ||
    pageSize < 512 ||
    pageSize > 65536 ||
    (pageSize & (pageSize - 1)) !== 0
  ) {
    return { database: leaveWalMode(Buffer.from(db)), framesApplied: 0, framesIgnored: 0 };
  }
  const bigEndian = magic === WAL_MAGIC_BE;
  const version = wal.readUInt32BE(4);
  if (version !== 3007000) throw fail(`unsupported WAL format version ${version} (3007000)`);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let [s0, s1] = walChecksum(wal.subarray(0, 24), bigEndian);
  if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) {
    // SQLite ignores a WAL whose header checksum is wrong; so do we.
    return { database: leaveWalMode(Buffer.from(db)), framesApplied: 0, framesIgnored: 0 };
  }
  const dbPage = dbPageSize(db);
  if (dbPage !== null && dbPage !== pageSize)
    throw fail(`page size ${pageSize} differs from the database's ${dbPage}`);

  // First pass: find the valid frames and the last commit among them.
  const frameSize = FRAME_HEADER + pageSize;
  let valid = 0;
  let lastCommit = 0;
  let commitPages = 0;
  for (let off = WAL_HEADER; off + frameSize <= wal.length; off += frameSize) {
    const h = wal.subarray(off, off + FRAME_HEADER);
    const pgno = h.readUInt32BE(0);
    if (pgno === 0 || h.readUInt32BE(8) !== salt1 || h.readUInt32BE(12) !== salt2) break;
    [s0, s1] = walChecksum(h.subarray(0, 8), bigEndian, s0, s1);
    [s0, s1] = walChecksum(wal.subarray(off + FRAME_HEADER, off + frameSize), bigEndian, s0, s1);
    if (s0 !== h.readUInt32BE(16) || s1 !== h.readUInt32BE(20)) break;
    valid++;
    const dbSize = h.readUInt32BE(4);
    if (dbSize !== 0) {
      lastCommit = valid;
      commitPages = dbSize;
    }
  }
  if (lastCommit === 0) {
    return { database: leaveWalMode(Buffer.from(db)), framesApplied: 0, framesIgnored: valid };
  }

  // Every page of the committed database exists in the file or in the log (new pages are always logged).
  let maxFramePage = 0;
  for (let i = 0; i < lastCommit; i++)
    maxFramePage = Math.max(maxFramePage, wal.readUInt32BE(WAL_HEADER + i * frameSize));
  const available = Math.max(Math.floor(db.length / pageSize), maxFramePage);
  if (commitPages > available) {
    throw fail(
      `a commit frame claims ${commitPages} pages, but only ${available} exist in the file and the log`,
    );
  }
  const size = commitPages * pageSize;
  const out = Buffer.alloc(size);
  db.copy(out, 0, 0, Math.min(db.length, size));
  for (let i = 0; i < lastCommit; i++) {
    const off = WAL_HEADER + i * frameSize;
    const pgno = wal.readUInt32BE(off);
    // A page beyond the committed size belongs to a truncated part of the file.
    if (pgno <= commitPages) wal.copy(out, (pgno - 1) * pageSize, off + FRAME_HEADER, off + frameSize);
  }
  if (dbPageSize(out) !== pageSize) throw fail("page 1 after applying the log is not a database header");
  return { database: leaveWalMode(out), framesApplied: lastCommit, framesIgnored: valid - lastCommit };
}

/** Sets the file format bytes (18, 19) from 2 (WAL) to 1 (rollback journal): the log is already applied. */
export function leaveWalMode(db: Buffer): Buffer {
  if (db.length >= 100 && db[18] === 2 && db[19] === 2) {
    db[18] = 1;
    db[19] = 1;
  }
  return db;
}
