/**
 * rpm's `rpmdb.sqlite` (AlmaLinux 9/10), read-only: `SELECT hnum, blob FROM Packages ORDER BY hnum`,
 * done by hand. The schema table (page 1) names the root page of rpm's one table,
 * `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`; its table b-tree is walked in key order (interior and
 * leaf pages, overflow chains) and each record decoded. rpm keeps the file in WAL mode: pages come from
 * the newest committed frame of the `-wal` log when there is one (wal.ts), else from the file.
 * Format: https://www.sqlite.org/fileformat2.html. Every page number, cell pointer, overflow chain and
 * record header is range-checked and every page is used once, so a damaged file ends in an
 * RpmFormatError ("malformed"), never a hang or an out-of-range read.
 */
import { RpmFormatError } from "../../errors.js";
import { readWal } from "./wal.js";

export interface SqliteRecord {
  readonly hnum: number;
  readonly blob: Buffer;
}

const MAGIC = "SQLite format 3\0";
const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;
/** SQLite's own cursor depth limit (BTCURSOR_MAX_DEPTH). */
const MAX_DEPTH = 20;

/** A database file read at any offset into the caller's memory (RpmdbDir.open gives one). */
export interface RandomAccessFile {
  readonly size: number;
  readInto(offset: number, length: number, target: Buffer, at: number): Promise<void>;
}

/** The layout of a database and where each page is: in the log's committed frames, else in the file. */
interface Layout {
  readonly pageSize: number;
  /** Usable bytes per page (page size minus the reserved bytes at its end). */
  readonly usable: number;
  readonly pages: number;
  /** Text encoding of the database: 1 UTF-8, 2 UTF-16le, 3 UTF-16be. */
  readonly encoding: number;
  /** A page's newest committed copy in the log; undefined when the file has it (checked as in range). */
  logged(pgno: number): Buffer | undefined;
}

/** `fileHead`: the file's first 100 bytes (fewer when the file is shorter); `fileSize`: its size. */
function layout(fileHead: Buffer, fileSize: number, wal: Buffer | null, what: string): Layout {
  const notSqlite = () => new RpmFormatError(`${what}: not an SQLite 3 database`);
  const malformed = (why: string) => new RpmFormatError(`${what}: malformed database (${why})`);
  if (fileSize > 0 && (fileSize < 100 || fileHead.toString("latin1", 0, 16) !== MAGIC)) throw notSqlite();
  const index = wal && wal.length > 0 ? readWal(fileHead, wal, fileSize) : null;
  const frames = index?.pages ? index.frames : null;
  // Page 1 (the header) may itself be newer in the log.
  const header = frames?.has(1) ? wal!.subarray(frames.get(1)!) : fileHead;
  if (header.length < 100) throw notSqlite();
  if (header.toString("latin1", 0, 16) !== MAGIC)
    throw malformed("page 1 from the log is not a database header");
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    throw malformed(`page size ${raw}`);
  if (header[19]! > 2) throw new RpmFormatError(`${what}: file format read version ${header[19]} (1 or 2)`);
  const usable = pageSize - header[20]!;
  if (usable < 480) throw malformed(`${header[20]} reserved bytes per page`);
  if (header[21] !== 64 || header[22] !== 32 || header[23] !== 32) throw malformed("payload fractions");
  const encoding = header.readUInt32BE(56) || 1;
  if (encoding > 3) throw malformed(`text encoding ${encoding}`);
  let pages: number;
  if (frames) pages = index!.pages!;
  else {
    // The header's page count holds when it was written with the current change counter.
    const counted = header.readUInt32BE(28);
    const valid = counted > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
    pages = valid ? counted : Math.floor(fileSize / pageSize);
  }
  const filePages = Math.floor(fileSize / pageSize);
  return {
    pageSize,
    usable,
    pages,
    encoding,
    logged: (pgno) => {
      if (!Number.isInteger(pgno) || pgno < 1 || pgno > pages) throw malformed(`page ${pgno} of ${pages}`);
      const logOffset = frames?.get(pgno);
      if (logOffset !== undefined) return wal!.subarray(logOffset, logOffset + pageSize);
      if (pgno > filePages) throw malformed(`page ${pgno} lies past the end of the file`);
      return undefined;
    },
  };
}

/**
 * A walk asks for pages by number (`wanted`, 0 once it is done) and is given each page's bytes, valid
 * until the call returns. One walk serves a file in memory and a file read window by window. A state
 * machine rather than a generator: a generator per tree level costs a resumption per level for every
 * page (thousands per database).
 */
interface Walk {
  readonly wanted: number;
  give(page: Buffer): void;
}

/** Reads SQLite varints (1-9 bytes, big-endian groups of 7 bits, the 9th byte whole) from a buffer. */
class VarintReader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly end: number,
    private readonly malformed: (why: string) => RpmFormatError,
  ) {}

  next(): number {
    let v = 0;
    for (let i = 0; i < 9; i++) {
      if (this.pos >= this.end) throw this.malformed("varint runs past its cell");
      const b = this.buf[this.pos++]!;
      if (i === 8) return v * 256 + b;
      v = v * 128 + (b & 0x7f);
      if (b < 0x80) return v;
    }
    return v;
  }
}

/** A decoded column: integers as numbers (bigint beyond 2^53), text, blob, null or a float. */
type Value = number | bigint | string | Buffer | null;

/** Bytes a serial type's value occupies (types 10 and 11 are reserved: malformed). */
function serialSize(type: number, malformed: (why: string) => RpmFormatError): number {
  if (type >= 12) return Math.floor((type - 12) / 2);
  const size = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0][type];
  if (size === undefined) throw malformed(`serial type ${type}`);
  return size;
}

function decodeValue(rec: Buffer, at: number, type: number, encoding: number): Value {
  switch (type) {
    case 0:
      return null;
    case 1:
      return rec.readInt8(at);
    case 2:
      return rec.readInt16BE(at);
    case 3:
      return rec.readIntBE(at, 3);
    case 4:
      return rec.readInt32BE(at);
    case 5:
      return rec.readIntBE(at, 6);
    case 6: {
      const v = rec.readBigInt64BE(at);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 7:
      return rec.readDoubleBE(at);
    case 8:
      return 0;
    case 9:
      return 1;
  }
  const len = Math.floor((type - 12) / 2);
  const bytes = rec.subarray(at, at + len);
  if (type % 2 === 0) return bytes;
  if (encoding === 1) return bytes.toString("utf8");
  if (encoding === 2) return bytes.toString("utf16le");
  return Buffer.from(bytes).swap16().toString("utf16le");
}

/** The columns of a record (payload bytes), columns beyond `want` not decoded. */
function decodeRecord(
  rec: Buffer,
  want: number,
  encoding: number,
  malformed: (why: string) => RpmFormatError,
): Value[] {
  const head = new VarintReader(rec, rec.length, malformed);
  const headerSize = head.next();
  if (headerSize > rec.length || headerSize < head.pos) throw malformed("record header size");
  const types = new VarintReader(rec, headerSize, malformed);
  types.pos = head.pos;
  const values: Value[] = [];
  let at = headerSize;
  while (types.pos < headerSize && values.length < want) {
    const type = types.next();
    const size = serialSize(type, malformed);
    if (at + size > rec.length) throw malformed("record value runs past its payload");
    values.push(decodeValue(rec, at, type, encoding));
    at += size;
  }
  return values;
}

/** One page of the path from the root to the cell being read. */
interface Level {
  /** A copy: the page the walk is given is only lent. */
  readonly page: Buffer;
  pgno: number;
  leaf: boolean;
  /** Offset of the page header (100 on page 1). */
  header: number;
  cells: number;
  pointers: number;
  /** The next cell to read; `cells` on an interior page: its right-most child is next. */
  next: number;
}

/**
 * Walks a table b-tree in key order, calling `visit(rowid, payload)` for each row with its whole payload
 * (a view of the page when it fits there, else assembled from the overflow chain into `scratch`, which
 * is reused: the payload is valid until `visit` returns).
 */
class TableWalk implements Walk {
  wanted = 0;
  private readonly levels: Level[] = [];
  /** The level being read; while a page is wanted, the level it will be. */
  private depth = 0;
  private scratch = Buffer.allocUnsafe(0);
  private readonly maxLocal: number;
  private readonly minLocal: number;
  /** A payload assembled from its overflow chain (cell on the current level): row, size, bytes so far. */
  private overflow = false;
  private rowid = 0;
  private size = 0;
  private done = 0;

  constructor(
    private readonly db: Layout,
    root: number,
    private readonly used: Uint8Array,
    private readonly malformed: (why: string) => RpmFormatError,
    private readonly visit: (rowid: number, payload: Buffer) => void,
  ) {
    this.maxLocal = db.usable - 35;
    this.minLocal = Math.floor(((db.usable - 12) * 32) / 255) - 23;
    this.want(root);
  }

  private want(pgno: number): void {
    if (pgno < 1 || pgno > this.db.pages) throw this.malformed(`page ${pgno} of ${this.db.pages}`);
    if (this.used[pgno]) throw this.malformed(`page ${pgno} is used twice`);
    this.used[pgno] = 1;
    this.wanted = pgno;
  }

  /** Wants the child page `pgno` of the current level. */
  private descend(pgno: number): void {
    if (this.depth + 1 > MAX_DEPTH) throw this.malformed("b-tree deeper than 20 levels");
    this.depth++;
    this.want(pgno);
  }

  give(lent: Buffer): void {
    if (this.overflow) this.overflowPage(lent);
    else this.enter(lent);
    if (!this.overflow) this.advance();
  }

  private enter(lent: Buffer): void {
    const { db, malformed } = this;
    const pgno = this.wanted;
    let l = this.levels[this.depth];
    if (!l) {
      l = {
        page: Buffer.allocUnsafe(db.pageSize),
        pgno: 0,
        leaf: false,
        header: 0,
        cells: 0,
        pointers: 0,
        next: 0,
      };
      this.levels[this.depth] = l;
    }
    lent.copy(l.page, 0, 0, db.pageSize);
    const p = l.page;
    const h = pgno === 1 ? 100 : 0;
    const type = p[h];
    if (type !== LEAF_TABLE && type !== INTERIOR_TABLE)
      throw malformed(`page ${pgno} has type ${type}, expected a table b-tree page`);
    const cells = p.readUInt16BE(h + 3);
    const pointers = h + (type === LEAF_TABLE ? 8 : 12);
    if (pointers + 2 * cells > db.usable) throw malformed(`page ${pgno} claims ${cells} cells`);
    l.pgno = pgno;
    l.leaf = type === LEAF_TABLE;
    l.header = h;
    l.cells = cells;
    l.pointers = pointers;
    l.next = 0;
  }

  /** Reads cells until a page is wanted or the walk is done. */
  private advance(): void {
    const { usable } = this.db;
    for (;;) {
      const l = this.levels[this.depth]!;
      if (l.next < l.cells) {
        const cell = l.page.readUInt16BE(l.pointers + 2 * l.next++);
        if (cell < l.pointers + 2 * l.cells || cell >= usable)
          throw this.malformed(`page ${l.pgno}: cell pointer ${cell}`);
        if (l.leaf) {
          if (this.leafCell(l, cell)) return;
          continue;
        }
        if (cell + 4 > usable) throw this.malformed(`page ${l.pgno}: cell pointer ${cell}`);
        this.descend(l.page.readUInt32BE(cell));
        return;
      }
      if (!l.leaf && l.next++ === l.cells) {
        this.descend(l.page.readUInt32BE(l.header + 8));
        return;
      }
      if (this.depth === 0) {
        this.wanted = 0;
        return;
      }
      this.depth--;
    }
  }

  /** Visits a row whose payload is on the page; else starts its overflow chain and returns true. */
  private leafCell(l: Level, cell: number): boolean {
    const { db, malformed, maxLocal, minLocal } = this;
    const { usable } = db;
    const p = l.page;
    const r = new VarintReader(p, usable, malformed);
    r.pos = cell;
    const size = r.next();
    const rowid = r.next();
    const start = r.pos;
    if (size <= maxLocal) {
      if (start + size > usable) throw malformed(`page ${l.pgno}: cell runs past the page`);
      this.visit(rowid, p.subarray(start, start + size));
      return false;
    }
    // At most every page of the database can hold a payload.
    if (size > db.pages * usable) throw malformed(`page ${l.pgno}: payload of ${size} bytes`);
    const k = minLocal + ((size - minLocal) % (usable - 4));
    const local = k <= maxLocal ? k : minLocal;
    if (start + local + 4 > usable) throw malformed(`page ${l.pgno}: cell runs past the page`);
    if (this.scratch.length < size)
      this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    p.copy(this.scratch, 0, start, start + local);
    const next = p.readUInt32BE(start + local);
    // size > maxLocal >= local: at least one overflow page follows
    if (next === 0) throw malformed(`page ${l.pgno}: overflow chain ends early`);
    this.overflow = true;
    this.rowid = rowid;
    this.size = size;
    this.done = local;
    this.want(next);
    return true;
  }

  private overflowPage(o: Buffer): void {
    const { size } = this;
    const pgno = this.levels[this.depth]!.pgno;
    const n = Math.min(this.db.usable - 4, size - this.done);
    o.copy(this.scratch, this.done, 4, 4 + n);
    this.done += n;
    const next = o.readUInt32BE(0);
    if (this.done < size) {
      if (next === 0) throw this.malformed(`page ${pgno}: overflow chain ends early`);
      this.want(next);
      return;
    }
    if (next !== 0) throw this.malformed(`page ${pgno}: overflow chain longer than its payload`);
    this.overflow = false;
    this.visit(this.rowid, this.scratch.subarray(0, size));
  }
}

/** Where rpm's table is and how its rows are laid out. */
interface TableShape {
  root: number;
  /** Column positions; hnum null when it is the rowid (INTEGER PRIMARY KEY). */
  hnum: number | null;
  blob: number;
}

/** Unquotes an SQL identifier ("x", 'x', `x`, [x]). */
function unquote(s: string): string {
  const q = s[0];
  if (q === '"' || q === "'" || q === "`") return s.slice(1, -1).replaceAll(q + q, q);
  if (q === "[") return s.slice(1, -1);
  return s;
}

/** Column definitions of a CREATE TABLE statement: name, declared type and constraints, in order. */
function columnDefinitions(sql: string): string[][] | null {
  const open = sql.indexOf("(");
  if (open < 0) return null;
  const tokens = sql
    .slice(open + 1)
    .match(/"(?:[^"]|"")*"|'(?:[^']|'')*'|`[^`]*`|\[[^\]]*\]|[A-Za-z0-9_$]+|\S/g);
  if (!tokens) return null;
  const defs: string[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t === "(") depth++;
    else if (t === ")") {
      if (depth === 0) return defs;
      depth--;
    } else if (t === "," && depth === 0) {
      defs.push([]);
      continue;
    }
    defs[defs.length - 1]!.push(t);
  }
  return null;
}

const TABLE_CONSTRAINTS = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);

function tableShape(sql: string, root: number, what: string): TableShape {
  const bad = (why: string) => new RpmFormatError(`${what}: table Packages ${why}`);
  const defs = columnDefinitions(sql);
  if (!defs || /\)\s*WITHOUT\s+ROWID\s*;?\s*$/i.test(sql)) throw bad(`has an unsupported definition: ${sql}`);
  const columns = defs.filter((d) => d.length > 0 && !TABLE_CONSTRAINTS.has(d[0]!.toUpperCase()));
  const names = columns.map((d) => unquote(d[0]!).toLowerCase());
  const hnum = names.indexOf("hnum");
  const blob = names.indexOf("blob");
  if (hnum < 0 || blob < 0) throw bad(`has no hnum or blob column: ${sql}`);
  // hnum is the rowid when declared INTEGER PRIMARY KEY (not DESC), as a column or a table constraint.
  const words = columns[hnum]!.map((w) => w.toUpperCase()).join(" ");
  const tablePk = defs.some((d) =>
    /^(CONSTRAINT \S+ )?PRIMARY KEY \( (?:"HNUM"|'HNUM'|`HNUM`|\[HNUM\]|HNUM) (ASC )?\)/.test(
      d.join(" ").toUpperCase(),
    ),
  );
  const aliased =
    /^\S+ INTEGER\b/.test(words) &&
    ((/\bPRIMARY KEY\b/.test(words) && !/\bPRIMARY KEY DESC\b/.test(words)) || tablePk);
  return { root, hnum: aliased ? null : hnum, blob };
}

/**
 * Every row of Packages by ascending hnum, each blob valid during its `visit` only: a walk of the schema
 * table (page 1) for the Packages table's root page and shape, then a walk of that table.
 */
class PackageRows implements Walk {
  wanted: number;
  private walk: TableWalk;
  private table: TableShape | null = null;
  /** Set once the table's walk has started: what is left to do when it ends. */
  private finish: (() => void) | null = null;
  private readonly malformed: (why: string) => RpmFormatError;

  constructor(
    private readonly db: Layout,
    private readonly what: string,
    private readonly visit: (hnum: number, blob: Buffer) => void,
  ) {
    const malformed = (why: string) => new RpmFormatError(`${what}: malformed database (${why})`);
    this.malformed = malformed;
    this.walk = new TableWalk(db, 1, new Uint8Array(db.pages + 1), malformed, (_rowid, payload) => {
      if (this.table) return;
      const [type, name, , rootpage, sql] = decodeRecord(payload, 5, db.encoding, malformed);
      if (type !== "table" || typeof name !== "string" || name.toLowerCase() !== "packages") return;
      if (typeof rootpage !== "number" || typeof sql !== "string") throw malformed("schema row of Packages");
      this.table = tableShape(sql, rootpage, what);
    });
    this.wanted = this.walk.wanted;
  }

  give(page: Buffer): void {
    this.walk.give(page);
    this.wanted = this.walk.wanted;
    if (this.wanted !== 0) return;
    if (this.finish) this.finish();
    else this.startTable();
  }

  private startTable(): void {
    const { db, what, malformed } = this;
    const table = this.table;
    if (!table) throw new RpmFormatError(`${what}: no such table: Packages`);
    const rows: { hnum: number; blob: Buffer }[] | null = table.hnum === null ? null : [];
    // hnum as an ordinary column: ORDER BY sorts (stably, as SQLite's sorter keeps equal keys in scan order).
    this.finish = () => {
      if (rows) for (const r of rows.sort((a, b) => a.hnum - b.hnum)) this.visit(r.hnum, r.blob);
    };
    this.walk = new TableWalk(db, table.root, new Uint8Array(db.pages + 1), malformed, (rowid, payload) => {
      const values = decodeRecord(payload, Math.max(table.blob, table.hnum ?? 0) + 1, db.encoding, malformed);
      const hnum = table.hnum === null ? rowid : values[table.hnum];
      const blob = values[table.blob];
      if (typeof hnum !== "number" || !Number.isSafeInteger(hnum))
        throw new RpmFormatError(`${what}: Packages row ${rowid} has no integer hnum`);
      if (!Buffer.isBuffer(blob))
        throw new RpmFormatError(`${what}: Packages row ${hnum} has no header blob`);
      if (rows) rows.push({ hnum, blob: Buffer.from(blob) });
      else this.visit(hnum, blob);
    });
    this.wanted = this.walk.wanted;
  }
}

/**
 * Calls `visit(hnum, blob)` for every row of `Packages`, by ascending hnum. `blob` is only valid during
 * the call (its memory is reused for the next row): copy it to keep it.
 */
export function forEachSqlitePackage(
  file: Buffer,
  wal: Buffer | null,
  visit: (hnum: number, blob: Buffer) => void,
  what = "rpmdb.sqlite",
): void {
  const db = layout(file.subarray(0, 100), file.length, wal, what);
  const walk = new PackageRows(db, what, visit);
  for (let pgno = walk.wanted; pgno !== 0; pgno = walk.wanted)
    walk.give(db.logged(pgno) ?? file.subarray((pgno - 1) * db.pageSize, pgno * db.pageSize));
}

/** Bytes of the file read at once, and how many such windows are kept (in reused memory). */
const WINDOW = 256 * 1024;
const WINDOWS = 4;

/**
 * forEachSqlitePackage over a file read window by window into a few reused buffers instead of whole:
 * rpm's pages are visited in nearly ascending order, so each window is read about once, and memory
 * the size of the database is never touched.
 */
export async function forEachSqlitePackageIn(
  file: RandomAccessFile,
  wal: Buffer | null,
  visit: (hnum: number, blob: Buffer) => void,
  what = "rpmdb.sqlite",
): Promise<void> {
  const head = Buffer.alloc(Math.min(100, file.size));
  await file.readInto(0, head.length, head, 0);
  const db = layout(head, file.size, wal, what);
  const size = Math.max(WINDOW, db.pageSize);
  // most recently used last
  const windows: { start: number; buf: Buffer }[] = [];
  /** The page when the log or a window in memory holds it (no await: most pages are such). */
  const pageAt = (pgno: number): Buffer | undefined => {
    const logged = db.logged(pgno);
    if (logged) return logged;
    const offset = (pgno - 1) * db.pageSize;
    const start = offset - (offset % size);
    const last = windows.length - 1;
    let i = last;
    while (i >= 0 && windows[i]!.start !== start) i--;
    if (i < 0) return undefined;
    const w = windows[i]!;
    if (i !== last) {
      windows.splice(i, 1);
      windows.push(w);
    }
    return w.buf.subarray(offset - start, offset - start + db.pageSize);
  };
  const readWindow = async (pgno: number): Promise<void> => {
    const offset = (pgno - 1) * db.pageSize;
    const start = offset - (offset % size);
    const buf = windows.length >= WINDOWS ? windows.shift()!.buf : Buffer.allocUnsafe(size);
    await file.readInto(start, Math.min(size, file.size - start), buf, 0);
    windows.push({ start, buf });
  };
  const walk = new PackageRows(db, what, visit);
  for (let pgno = walk.wanted; pgno !== 0; pgno = walk.wanted) {
    let p = pageAt(pgno);
    if (p === undefined) {
      await readWindow(pgno);
      p = pageAt(pgno)!;
    }
    walk.give(p);
  }
}

/** Every row of `Packages`, by ascending hnum (blobs copied). */
export function readSqlitePackages(
  file: Buffer,
  what = "rpmdb.sqlite",
  wal: Buffer | null = null,
): SqliteRecord[] {
  const out: SqliteRecord[] = [];
  forEachSqlitePackage(file, wal, (hnum, blob) => out.push({ hnum, blob: Buffer.from(blob) }), what);
  return out;
}
