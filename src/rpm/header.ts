/**
 * The RPM header codec (read-only). A header is an intro (optional 8-byte magic, index count, data
 * size), an index of 16-byte entries (tag, type, offset, count) and a data store, all big-endian.
 * Package files carry the magic; rpmdb blobs start at the index count. The checks follow rpm's own
 * (lib/header.cc: hdrblobInit, hdrblobVerifyRegion, hdrblobVerifyInfo), so a header this codec accepts
 * is one rpm accepts, and anything else is an RpmFormatError, never an out-of-bounds read.
 */
import { RpmFormatError } from "../errors.js";
import { checkIndexFast, type IndexToCheck } from "./header-index.js";
import { type PgpSignatureInfo, parsePgpSignature } from "./pgp.js";
import { DECLARED_TAG_TYPES, RpmType, type RpmTypeCode } from "./tag-types.js";

export const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

export { RpmType, type RpmTypeCode };

/** Type names by code, for messages. */
const TYPE_NAMES = Object.keys(RpmType);
/** Bytes per element; -1 for NUL-terminated strings. */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, -1, 1, -1, -1];
const TYPE_ALIGN = [1, 1, 1, 2, 4, 8, 1, 1, 1, 1];

/** Main-header tags we read (rpm's include/rpm/rpmtag.h). */
export const tags = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  HEADERI18NTABLE: 100,
  /** Signature-header tags copied into the installed header (RPMTAG_SIG_BASE 256 + n). */
  SIGSIZE: 257,
  SIGPGP: 259,
  SIGMD5: 261,
  SIGGPG: 262,
  PUBKEYS: 266,
  DSAHEADER: 267,
  RSAHEADER: 268,
  SHA1HEADER: 269,
  LONGSIGSIZE: 270,
  SHA256HEADER: 273,
  OPENPGP: 278,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  INSTALLTIME: 1008,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  GROUP: 1016,
  OS: 1021,
  ARCH: 1022,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  /** Virtual (the rpmdb record number); never stored, listed so callers do not look for it. */
  DBINSTANCE: 1195,
  LONGSIZE: 5009,
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
} as const;

const isStringType = (t: number) =>
  t === RpmType.STRING || t === RpmType.STRING_ARRAY || t === RpmType.I18NSTRING;

/** Tags of a package file's signature header (RPMSIGTAG_*); 1000-1008 mean other things there. */
export const signatureTags = {
  HEADERSIGNATURES: 62,
  DSAHEADER: 267,
  RSAHEADER: 268,
  SHA1HEADER: 269,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  SHA256HEADER: 273,
  OPENPGP: 278,
  SIZE: 1000,
  PGP: 1002,
  MD5: 1004,
  GPG: 1005,
  PAYLOADSIZE: 1007,
  RESERVEDSPACE: 1008,
} as const;

/** rpm's caps: HEADER_TAGS_MAX and HEADER_DATA_MAX (signature headers: 32 tags, 64 MiB). */
export const MAX_INDEX_ENTRIES = 0xffff;
export const MAX_DATA_SIZE = 0x0fffffff;
const SIG_MAX_INDEX_ENTRIES = 32;
const SIG_MAX_DATA_SIZE = 64 * 1024 * 1024;
/** rpm's HEADER_ARRAY_MAX: element count cap for everything but BIN. */
const MAX_ARRAY = 0x000fffff;
const ENTRY_SIZE = 16;

export interface HeaderEntry {
  readonly tag: number;
  readonly type: RpmTypeCode;
  /** Offset of the value in the data store. */
  readonly offset: number;
  readonly count: number;
  /** Bytes of data the value occupies. */
  readonly length: number;
}

export interface ParseHeaderOptions {
  /**
   * The blob starts with the 8-byte header magic (package files) or directly with the index count
   * (rpmdb blobs, which are then checked as rpm imports them from a database).
   */
  magic: boolean;
  /**
   * The region tag the header must start with: HEADERIMMUTABLE for a package's main header,
   * HEADERSIGNATURES for its signature header. Absent (rpmdb blobs): any of the three region tags.
   * A header without any region (very old packages) is accepted, as rpm does.
   */
  regionTag?: number;
  /** Package files: the region must cover the whole header (no dribbles). */
  exactSize?: boolean;
  /** Names the header in error messages. */
  what?: string;
  /** Allow bytes after the header (a buffer holding more of a file; byteLength says where it ends). */
  trailing?: boolean;
}

/** Size of the intro: magic (if any) plus index count and data size. */
export function introSize(magic: boolean): number {
  return magic ? 16 : 8;
}

/**
 * Total byte length of the header starting at `buf[0]`, read from its intro (so a caller can fetch exactly
 * that much); throws on a bad magic or counts beyond rpm's caps. `buf` must hold at least the intro.
 */
export function headerLength(
  buf: Buffer,
  options: Pick<ParseHeaderOptions, "magic" | "regionTag" | "what">,
): number {
  const what = options.what ?? "rpm header";
  const intro = introSize(options.magic);
  if (buf.length < intro)
    throw new RpmFormatError(`${what}: truncated (${buf.length} bytes, intro needs ${intro})`);
  if (options.magic && !buf.subarray(0, 8).equals(HEADER_MAGIC)) {
    throw new RpmFormatError(
      `${what}: bad header magic ${buf.subarray(0, 8).toString("hex")} (expected 8eade80100000000)`,
    );
  }
  const il = buf.readUInt32BE(intro - 8);
  const dl = buf.readUInt32BE(intro - 4);
  const sig = options.regionTag === tags.HEADERSIGNATURES;
  const maxIl = sig ? SIG_MAX_INDEX_ENTRIES : MAX_INDEX_ENTRIES;
  const maxDl = sig ? SIG_MAX_DATA_SIZE : MAX_DATA_SIZE;
  if (il < 1 || il > maxIl) throw new RpmFormatError(`${what}: index count ${il} out of range (1..${maxIl})`);
  if (dl > maxDl) throw new RpmFormatError(`${what}: data size ${dl} out of range (0..${maxDl})`);
  return intro + il * ENTRY_SIZE + dl;
}

/** Per index entry, in stored order: tag, type, offset, count, length (5 int32s each). */
const FIELDS = 5;

/** Where a parsed header's parts are. */
export interface HeaderLayout {
  readonly data: Buffer;
  readonly index: Buffer;
  readonly regionTag: number | null;
  readonly regionEntries: number;
  readonly regionDataLength: number;
  readonly byteLength: number;
  readonly what: string;
}

/**
 * A parsed header: typed accessors over its data store. Made by parseHeader, which checks every entry;
 * values are decoded only when asked for.
 */
export class RpmHeader implements HeaderLayout {
  /** The data store. */
  readonly data: Buffer;
  /** The raw index (16 bytes per entry, in stored order). */
  readonly index: Buffer;
  /** The region tag (61, 62 or 63), or null for a header without a region. */
  readonly regionTag: number | null;
  /** Index entries and data bytes inside the region (all of them when there is no region). */
  readonly regionEntries: number;
  readonly regionDataLength: number;
  /** Bytes the header occupies in the buffer it was parsed from, including the magic. */
  readonly byteLength: number;
  /** Names the header in error messages. */
  readonly what: string;
  /** The entries after the region entry, FIELDS int32s each, in stored order. */
  private readonly table: Int32Array;
  private map: Map<number, HeaderEntry> | undefined;
  private readonly signatures = new Map<number, PgpSignatureInfo>();

  constructor(layout: HeaderLayout, table: Int32Array) {
    this.data = layout.data;
    this.index = layout.index;
    this.regionTag = layout.regionTag;
    this.regionEntries = layout.regionEntries;
    this.regionDataLength = layout.regionDataLength;
    this.byteLength = layout.byteLength;
    this.what = layout.what;
    this.table = table;
  }

  /** Entries by tag; dribbles (entries after the region) replace region entries of the same tag, as in rpm. */
  get entries(): ReadonlyMap<number, HeaderEntry> {
    if (!this.map) {
      this.map = new Map();
      const t = this.table;
      for (let i = 0; i < t.length; i += FIELDS) this.map.set(t[i]!, this.entryAt(i));
    }
    return this.map;
  }

  private entryAt(i: number): HeaderEntry {
    const t = this.table;
    return {
      tag: t[i]!,
      type: t[i + 1] as RpmTypeCode,
      offset: t[i + 2]!,
      count: t[i + 3]!,
      length: t[i + 4]!,
    };
  }

  /** Position of `tag` in the table (the last entry wins, as dribbles replace), or -1. */
  private find(tag: number): number {
    const t = this.table;
    for (let i = t.length - FIELDS; i >= 0; i -= FIELDS) if (t[i] === tag) return i;
    return -1;
  }

  has(tag: number): boolean {
    return this.find(tag) >= 0;
  }

  get(tag: number): HeaderEntry | undefined {
    const i = this.find(tag);
    return i < 0 ? undefined : this.entryAt(i);
  }

  /** A STRING (or the first element of a STRING_ARRAY/I18NSTRING) value; null when absent. */
  string(tag: number): string | null {
    const i = this.find(tag);
    if (i < 0) return null;
    const t = this.table;
    if (!isStringType(t[i + 1]!)) throw this.typeError(i, "a string");
    const d = this.data;
    const start = t[i + 2]!;
    // A STRING's length includes its NUL; an array's first element ends at its first NUL (parseHeader
    // checked that every string is terminated).
    const end = t[i + 1] === RpmType.STRING ? start + t[i + 4]! - 1 : d.indexOf(0, start);
    return end === start ? "" : d.toString("utf8", start, end);
  }

  /** A STRING_ARRAY/I18NSTRING (or a single STRING as a one-element list); null when absent. */
  strings(tag: number): string[] | null {
    const i = this.find(tag);
    if (i < 0) return null;
    const t = this.table;
    if (!isStringType(t[i + 1]!)) throw this.typeError(i, "strings");
    const out: string[] = [];
    const d = this.data;
    let p = t[i + 2]!;
    for (let n = t[i + 3]!; n > 0; n--) {
      const end = d.indexOf(0, p);
      out.push(end === p ? "" : d.toString("utf8", p, end));
      p = end + 1;
    }
    return out;
  }

  /** Integer values (CHAR, INT8, INT16, INT32; INT64 when exactly representable); null when absent. */
  numbers(tag: number): number[] | null {
    const i = this.find(tag);
    if (i < 0) return null;
    const t = this.table;
    const type = t[i + 1]!;
    const offset = t[i + 2]!;
    const count = t[i + 3]!;
    const out: number[] = [];
    const d = this.data;
    for (let k = 0; k < count; k++) {
      switch (type) {
        case RpmType.CHAR:
        case RpmType.INT8:
          out.push(d[offset + k]!);
          break;
        case RpmType.INT16:
          out.push(d.readUInt16BE(offset + 2 * k));
          break;
        case RpmType.INT32:
          out.push(d.readUInt32BE(offset + 4 * k));
          break;
        case RpmType.INT64: {
          const v = d.readBigUInt64BE(offset + 8 * k);
          if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw new RpmFormatError(`${this.what}: tag ${tag} value ${v} is too large for a number`);
          }
          out.push(Number(v));
          break;
        }
        default:
          throw this.typeError(i, "an integer");
      }
    }
    return out;
  }

  /** The first integer value; null when absent. */
  number(tag: number): number | null {
    const values = this.numbers(tag);
    return values ? values[0]! : null;
  }

  /** INT64 values as bigints (other integer types widened); null when absent. */
  bigints(tag: number): bigint[] | null {
    const i = this.find(tag);
    if (i < 0) return null;
    const t = this.table;
    if (t[i + 1] !== RpmType.INT64) return this.numbers(tag)!.map(BigInt);
    const out: bigint[] = [];
    for (let k = 0; k < t[i + 3]!; k++) out.push(this.data.readBigUInt64BE(t[i + 2]! + 8 * k));
    return out;
  }

  /** The bytes of a BIN (or CHAR/INT8) value, as a view of the data store; null when absent. */
  view(tag: number): Buffer | null {
    const i = this.find(tag);
    if (i < 0) return null;
    const t = this.table;
    const type = t[i + 1];
    if (type !== RpmType.BIN && type !== RpmType.CHAR && type !== RpmType.INT8)
      throw this.typeError(i, "binary");
    return this.data.subarray(t[i + 2]!, t[i + 2]! + t[i + 4]!);
  }

  /** The raw bytes of a BIN (or CHAR/INT8) value; null when absent. A copy, safe to keep. */
  binary(tag: number): Buffer | null {
    const v = this.view(tag);
    return v === null ? null : Buffer.from(v);
  }

  /** A BIN value as lowercase hex; null when absent. */
  hex(tag: number): string | null {
    return this.view(tag)?.toString("hex") ?? null;
  }

  /** The OpenPGP signature packet of a BIN tag (RSAHEADER, DSAHEADER...), parsed once; null when absent. */
  pgpSignature(tag: number): PgpSignatureInfo | null {
    const cached = this.signatures.get(tag);
    if (cached) return cached;
    const pkt = this.view(tag);
    if (pkt === null) return null;
    const info = parsePgpSignature(pkt);
    this.signatures.set(tag, info);
    return info;
  }

  private typeError(i: number, wanted: string): RpmFormatError {
    const t = this.table;
    return new RpmFormatError(
      `${this.what}: tag ${t[i]} has type ${TYPE_NAMES[t[i + 1]!]}, expected ${wanted}`,
    );
  }
}

/** A header's parts as its intro and region entry place them, before its index is checked. */
export interface LocatedHeader {
  readonly index: IndexToCheck;
  /** The data store. */
  readonly data: Buffer;
  /** Bytes the header occupies in the buffer, including the magic. */
  readonly total: number;
  readonly region: number | null;
  /** Index entries and data bytes inside the region. */
  readonly ril: number;
  readonly rdl: number;
  /** The region entry's offset (its trailer's place in the data store). */
  readonly firstOffset: number;
}

/**
 * Reads a header's intro and region (rpm's hdrblobInit and hdrblobVerifyRegion): where its index and data
 * store are and what its index check needs. Throws RpmFormatError on a bad intro or region.
 */
export function locateHeader(buf: Buffer, options: ParseHeaderOptions, what: string): LocatedHeader {
  const total = headerLength(buf, options);
  if (buf.length < total) {
    throw new RpmFormatError(`${what}: truncated (${buf.length} bytes, header needs ${total})`);
  }
  if (!options.trailing && buf.length !== total) {
    throw new RpmFormatError(
      `${what}: ${buf.length - total} bytes after the header (blob is ${buf.length} bytes)`,
    );
  }
  const intro = introSize(options.magic);
  const il = buf.readUInt32BE(intro - 8);
  const dl = buf.readUInt32BE(intro - 4);
  const indexStart = intro;
  const data = buf.subarray(intro + il * ENTRY_SIZE, intro + il * ENTRY_SIZE + dl);

  // The region: its entry comes first and points at a 16-byte trailer in the data store.
  let region: number | null = null;
  let ril = il;
  let rdl = dl;
  const firstTag = buf.readUInt32BE(indexStart);
  const firstType = buf.readUInt32BE(indexStart + 4);
  const firstOffset = buf.readInt32BE(indexStart + 8);
  const firstCount = buf.readUInt32BE(indexStart + 12);
  const isRegionTag = (t: number) =>
    t === tags.HEADERIMAGE || t === tags.HEADERSIGNATURES || t === tags.HEADERIMMUTABLE;
  const wantedRegion = options.regionTag ?? firstTag;
  if (isRegionTag(firstTag) && firstTag === wantedRegion) {
    if (firstType !== RpmType.BIN || firstCount !== ENTRY_SIZE) {
      throw new RpmFormatError(
        `${what}: region tag ${firstTag} has type ${firstType} count ${firstCount} (expected BIN, 16)`,
      );
    }
    if (firstOffset < 0 || firstOffset + ENTRY_SIZE > dl) {
      throw new RpmFormatError(
        `${what}: region trailer offset ${firstOffset} outside the data store (${dl} bytes)`,
      );
    }
    const t = firstOffset;
    let trailerTag = data.readUInt32BE(t);
    const trailerType = data.readUInt32BE(t + 4);
    const trailerOffset = -data.readInt32BE(t + 8);
    const trailerCount = data.readUInt32BE(t + 12);
    // Some old packages have HEADERIMAGE in the signature region trailer; rpm accepts it.
    if (wantedRegion === tags.HEADERSIGNATURES && trailerTag === tags.HEADERIMAGE)
      trailerTag = tags.HEADERSIGNATURES;
    if (trailerTag !== wantedRegion || trailerType !== RpmType.BIN || trailerCount !== ENTRY_SIZE) {
      throw new RpmFormatError(
        `${what}: bad region trailer (tag ${trailerTag} type ${trailerType} count ${trailerCount}, expected tag ${wantedRegion} BIN 16)`,
      );
    }
    rdl = t + ENTRY_SIZE;
    ril = trailerOffset / ENTRY_SIZE;
    if (trailerOffset % ENTRY_SIZE !== 0 || ril < 1 || ril > il) {
      throw new RpmFormatError(
        `${what}: region claims ${trailerOffset / ENTRY_SIZE} index entries (header has ${il})`,
      );
    }
    if (options.exactSize && (ril !== il || rdl !== dl)) {
      throw new RpmFormatError(
        `${what}: region covers ${ril} of ${il} entries and ${rdl} of ${dl} data bytes`,
      );
    }
    region = wantedRegion;
  } else if (isRegionTag(firstTag) || firstTag < tags.HEADERI18NTABLE) {
    const expected = options.regionTag ?? "61, 62 or 63";
    throw new RpmFormatError(
      `${what}: first tag ${firstTag} is neither the region tag (${expected}) nor a data tag`,
    );
  }

  // rpm checks the types of known tags in main headers only (signature tags reuse numbers).
  const index: IndexToCheck = {
    buf,
    indexStart,
    il,
    first: region === null ? 0 : 1,
    dl,
    typeCheck: region === tags.HEADERIMMUTABLE || region === tags.HEADERIMAGE,
    trailerEnd: region === null ? -1 : rdl,
  };
  return { index, data, total, region, ril, rdl, firstOffset };
}

/** Parses one header from the start of `buf`. */
export function parseHeader(buf: Buffer, options: ParseHeaderOptions): RpmHeader {
  const what = options.what ?? "rpm header";
  const { index, data, total, region, ril, rdl, firstOffset } = locateHeader(buf, options, what);
  const { indexStart, il, dl } = index;
  const table = checkIndexFast(index) ?? checkIndex(index, what);
  checkAccounting(table, region === null ? null : firstOffset === 0 ? il : ril, dl, !options.magic, what);
  return new RpmHeader(
    {
      data,
      index: buf.subarray(indexStart, indexStart + il * ENTRY_SIZE),
      regionTag: region,
      regionEntries: ril,
      regionDataLength: rdl,
      byteLength: total,
      what,
    },
    table,
  );
}

/**
 * Checks every index entry from `first` as rpm's hdrblobVerifyInfo does and returns the table (tag, type,
 * offset, count, length per entry); throws RpmFormatError naming the first bad entry. header-index.wat
 * holds the same rules; the two must agree on every header (test/rpm/header-index.test.ts).
 */
export function checkIndex(h: IndexToCheck, what: string): Int32Array {
  const { buf, indexStart, il, first, dl, typeCheck, trailerEnd } = h;
  const data = buf.subarray(indexStart + il * ENTRY_SIZE, indexStart + il * ENTRY_SIZE + dl);
  const table = new Int32Array((il - first) * FIELDS);
  let end = 0;
  // DataView reads are engine built-ins: cheaper per call than Buffer's JavaScript readers in this loop,
  // which runs cold (on a header the WebAssembly check refused, or where that check cannot run).
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  for (let i = first, k = 0; i < il; i++, k += FIELDS) {
    const at = indexStart + i * ENTRY_SIZE;
    const tag = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const offset = view.getInt32(at + 8);
    const count = view.getUint32(at + 12);
    let problem: string | null = null;
    let length = 0;
    // rpm (4.18 and older) holds tags in an int32: 0x80000000 and above are negative, hence invalid.
    if (tag < tags.HEADERI18NTABLE || tag > 0x7fffffff)
      problem = "tag outside 100..2147483647 (a second region?)";
    else if (type > RpmType.I18NSTRING) problem = "unknown type";
    else if (count < 1 || count > dl) problem = `count outside 1..${dl}`;
    else if (offset < 0 || offset > dl) problem = `offset outside the data store (${dl} bytes)`;
    else if (offset % TYPE_ALIGN[type]! !== 0) problem = `offset not aligned to ${TYPE_ALIGN[type]}`;
    else if (type !== RpmType.BIN && count > MAX_ARRAY) problem = `more than ${MAX_ARRAY} elements`;
    else {
      const declared = typeCheck ? DECLARED_TAG_TYPES.get(tag) : undefined;
      if (declared !== undefined && declared !== type && !(isStringType(declared) && isStringType(type))) {
        problem = `rpm declares this tag as ${TYPE_NAMES[declared]}`;
      } else if (offset < end) {
        // rpm writes values in index order; an entry starting inside the previous one is corrupt.
        problem = `overlaps the previous value (ends at ${end})`;
      } else {
        length = valueLength(data, type as RpmTypeCode, offset, count);
        if (length < 0) problem = `value does not fit in the data store (${dl} bytes)`;
        else if (length === 0) problem = "empty value";
        else if (trailerEnd >= 0 && offset + length > trailerEnd - ENTRY_SIZE && offset < trailerEnd)
          problem = "overlaps the region trailer";
      }
    }
    if (problem !== null) throw entryError(what, i, tag, type, offset, count, problem);
    end = offset + length;
    table[k] = tag;
    table[k + 1] = type;
    table[k + 2] = offset;
    table[k + 3] = count;
    table[k + 4] = length;
  }
  return table;
}

function entryError(
  what: string,
  i: number,
  tag: number,
  type: number,
  offset: number,
  count: number,
  why: string,
): RpmFormatError {
  return new RpmFormatError(
    `${what}: index entry ${i} (tag ${tag} type ${type} offset ${offset} count ${count}): ${why}`,
  );
}

/**
 * rpm's import (hdrblobImport/regionSwab) adds up the value lengths, each aligned on the running total,
 * and requires region values + trailer + dribbles to fill the data store exactly: no slack bytes.
 * Database blobs are imported "fast": a string's length then runs to the next entry's offset.
 */
function checkAccounting(
  table: Int32Array,
  regionEntries: number | null,
  dl: number,
  fast: boolean,
  what: string,
): void {
  const n = table.length / FIELDS;
  // entries [from, to) of the table, starting from `start`
  const sum = (from: number, to: number, start: number) => {
    let total = start;
    for (let k = from; k < to; k++) {
      const at = k * FIELDS;
      const size = TYPE_SIZE[table[at + 1]!]!;
      if (size > 1 && total % size !== 0) total += size - (total % size);
      total += fast && k + 1 < to && size < 0 ? table[at + FIELDS + 2]! - table[at + 2]! : table[at + 4]!;
    }
    return total;
  };
  let total: number;
  if (regionEntries === null) total = sum(0, n, 0);
  else {
    const inRegion = Math.min(n, Math.max(0, regionEntries - 1));
    total = sum(inRegion, n, sum(0, inRegion, 0)) + ENTRY_SIZE;
  }
  if (total !== dl) {
    throw new RpmFormatError(`${what}: values account for ${total} of ${dl} data bytes (rpm requires all)`);
  }
}

/** Bytes a value occupies, or -1 when it runs past the end of the store. */
function valueLength(data: Buffer, type: RpmTypeCode, offset: number, count: number): number {
  const size = TYPE_SIZE[type]!;
  if (size >= 0) {
    const length = size * count;
    return offset + length <= data.length ? length : -1;
  }
  if (type === RpmType.STRING && count !== 1) return -1;
  // A plain loop: most strings are short, and Buffer.indexOf costs more per call than it saves.
  const n = data.length;
  let p = offset;
  for (let left = count; left > 0; left--) {
    while (p < n && data[p] !== 0) p++;
    if (p >= n) return -1;
    p++;
  }
  return p - offset;
}
