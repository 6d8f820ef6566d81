/**
 * A SQLite write-ahead log read as SQLite's own recovery reads it: frames are valid while their salts
 * match the WAL header and their cumulative checksums chain; the pages of every transaction up to the
 * last valid commit frame count, later (uncommitted) frames are ignored. A log SQLite would ignore
 * (foreign magic, bad header checksum) is ignored; one it refuses to open (unknown format version) is an
 * RpmFormatError. `readWal` indexes the committed frames without copying anything; `applyWal` writes
 * them into a copy of the database.
 * Format: https://www.sqlite.org/fileformat2.html#walformat
 */
import { RpmFormatError } from "../../errors.js";

const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** The committed state a log describes. */
export interface WalIndex {
  /** The log's page size (0 when it commits nothing). */
  readonly pageSize: number;
  /** Database size in pages after the last commit; null when the log commits nothing (the file alone counts). */
  readonly pages: number | null;
  /** Page number → offset in the log of the newest committed copy of that page (pages > `pages` left out). */
  readonly frames: ReadonlyMap<number, number>;
  /** Frames up to and including the last valid commit frame. */
  readonly framesApplied: number;
  /** Valid frames after the last commit, ignored. */
  readonly framesIgnored: number;
}

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
  const n = data.length - 7;
  if (bigEndian) {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32BE(i) + b) >>> 0;
      b = (b + data.readUInt32BE(i + 4) + a) >>> 0;
    }
  } else {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32LE(i) + b) >>> 0;
      b = (b + data.readUInt32LE(i + 4) + a) >>> 0;
    }
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

/** What a log that commits nothing adds: nothing (`ignored` valid frames after no commit). */
function nothing(ignored: number): WalIndex {
  return { pageSize: 0, pages: null, frames: new Map(), framesApplied: 0, framesIgnored: ignored };
}

/**
 * The committed frames of `wal` over `db`, without copying anything. Only the database's header and
 * size matter: `db` may be just its first 100 bytes when `dbSize` says how large the file is.
 */
export function readWal(db: Buffer, wal: Buffer, dbSize = db.length): WalIndex {
  const fail = (why: string) => new RpmFormatError(`rpmdb.sqlite-wal: ${why}`);
  // A WAL shorter than its header holds nothing SQLite would use.
  if (wal.length < WAL_HEADER) return nothing(0);
  const magic = wal.readUInt32BE(0);
  const pageSize = wal.readUInt32BE(8);
  // Like SQLite's recovery: a log with a foreign magic or an impossible page size holds nothing.
  if (
    (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) ||
    pageSize < 512 ||
    pageSize > 65536 ||
    (pageSize & (pageSize - 1)) !== 0
  ) {
    return nothing(0);
  }
  const bigEndian = magic === WAL_MAGIC_BE;
  const version = wal.readUInt32BE(4);
  if (version !== 3007000) throw fail(`unsupported WAL format version ${version} (3007000)`);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let [s0, s1] = walChecksum(wal.subarray(0, 24), bigEndian);
  // SQLite ignores a WAL whose header checksum is wrong; so do we.
  if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) return nothing(0);
  const dbPage = dbPageSize(db);
  if (dbPage !== null && dbPage !== pageSize)
    throw fail(`page size ${pageSize} differs from the database's ${dbPage}`);

  // Find the valid frames and the last commit among them.
  const frameSize = FRAME_HEADER + pageSize;
  let valid = 0;
  let lastCommit = 0;
  let commitPages = 0;
  for (let off = WAL_HEADER; off + frameSize <= wal.length; off += frameSize) {
    const pgno = wal.readUInt32BE(off);
    if (pgno === 0 || wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    [s0, s1] = walChecksum(wal.subarray(off, off + 8), bigEndian, s0, s1);
    [s0, s1] = walChecksum(wal.subarray(off + FRAME_HEADER, off + frameSize), bigEndian, s0, s1);
    if (s0 !== wal.readUInt32BE(off + 16) || s1 !== wal.readUInt32BE(off + 20)) break;
    valid++;
    const dbSize = wal.readUInt32BE(off + 4);
    if (dbSize !== 0) {
      lastCommit = valid;
      commitPages = dbSize;
    }
  }
  if (lastCommit === 0) return nothing(valid);

  // Every page of the committed database exists in the file or in the log (new pages are always logged).
  const frames = new Map<number, number>();
  let maxFramePage = 0;
  for (let i = 0; i < lastCommit; i++) {
    const off = WAL_HEADER + i * frameSize;
    const pgno = wal.readUInt32BE(off);
    maxFramePage = Math.max(maxFramePage, pgno);
    // A page beyond the committed size belongs to a truncated part of the file.
    if (pgno <= commitPages) frames.set(pgno, off + FRAME_HEADER);
  }
  const available = Math.max(Math.floor(dbSize / pageSize), maxFramePage);
  if (commitPages > available) {
    throw fail(
      `a commit frame claims ${commitPages} pages, but only ${available} exist in the file and the log`,
    );
  }
  return {
    pageSize,
    pages: commitPages,
    frames,
    framesApplied: lastCommit,
    framesIgnored: valid - lastCommit,
  };
}

/** A copy of `db` with the committed frames of `wal` written into it. */
export function applyWal(db: Buffer, wal: Buffer): WalResult {
  const index = readWal(db, wal);
  const { pageSize, pages, frames } = index;
  if (pages === null) {
    return { database: leaveWalMode(Buffer.from(db)), framesApplied: 0, framesIgnored: index.framesIgnored };
  }
  const out = Buffer.alloc(pages * pageSize);
  db.copy(out, 0, 0, Math.min(db.length, out.length));
  for (const [pgno, off] of frames) wal.copy(out, (pgno - 1) * pageSize, off, off + pageSize);
  if (dbPageSize(out) !== pageSize)
    throw new RpmFormatError("rpmdb.sqlite-wal: page 1 after applying the log is not a database header");
  return {
    database: leaveWalMode(out),
    framesApplied: index.framesApplied,
    framesIgnored: index.framesIgnored,
  };
}

/** Sets the file format bytes (18, 19) from 2 (WAL) to 1 (rollback journal): the log is already applied. */
export function leaveWalMode(db: Buffer): Buffer {
  if (db.length >= 100 && db[18] === 2 && db[19] === 2) {
    db[18] = 1;
    db[19] = 1;
  }
  return db;
}
