/**
 * The RPM header codec (read-only). A header is an intro (optional 8-byte magic, index count, data
 * size), an index of 16-byte entries (tag, type, offset, count) and a data store, all big-endian.
 * Package files carry the magic; rpmdb blobs start at the index count. The checks follow rpm's own
 * (lib/header.cc: hdrblobInit, hdrblobVerifyRegion, hdrblobVerifyInfo), so a header this codec accepts
 * is one rpm accepts, and anything else is an RpmFormatError, never an out-of-bounds read.
 */
import { RpmFormatError } from "../errors.js";
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

/** A parsed header: its entries by tag and typed accessors over its data store. */
export interface RpmHeaderInit {
  /** Entries by tag; dribbles (entries after the region) replace region entries of the same tag, as in rpm. */
  readonly entries: ReadonlyMap<number, HeaderEntry>;
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
}

/** A parsed header: its entries by tag and typed accessors over its data store. Made by parseHeader. */
export class RpmHeader implements RpmHeaderInit {
  readonly entries: ReadonlyMap<number, HeaderEntry>;
  readonly data: Buffer;
  readonly index: Buffer;
  readonly regionTag: number | null;
  readonly regionEntries: number;
  readonly regionDataLength: number;
  readonly byteLength: number;
  readonly what: string;

  constructor(init: RpmHeaderInit) {
    this.entries = init.entries;
    this.data = init.data;
    this.index = init.index;
    this.regionTag = init.regionTag;
    this.regionEntries = init.regionEntries;
    this.regionDataLength = init.regionDataLength;
    this.byteLength = init.byteLength;
    this.what = init.what;
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  get(tag: number): HeaderEntry | undefined {
    return this.entries.get(tag);
  }

  /** A STRING (or the first element of a STRING_ARRAY/I18NSTRING) value; null when absent. */
  string(tag: number): string | null {
    const e = this.entries.get(tag);
    if (!e) return null;
    if (e.type !== RpmType.STRING && e.type !== RpmType.STRING_ARRAY && e.type !== RpmType.I18NSTRING) {
      throw this.typeError(e, "a string");
    }
    return this.readStrings(e, 1)[0]!;
  }

  /** A STRING_ARRAY/I18NSTRING (or a single STRING as a one-element list); null when absent. */
  strings(tag: number): string[] | null {
    const e = this.entries.get(tag);
    if (!e) return null;
    if (e.type !== RpmType.STRING && e.type !== RpmType.STRING_ARRAY && e.type !== RpmType.I18NSTRING) {
      throw this.typeError(e, "strings");
    }
    return this.readStrings(e, e.count);
  }

  /** Integer values (CHAR, INT8, INT16, INT32; INT64 when exactly representable); null when absent. */
  numbers(tag: number): number[] | null {
    const e = this.entries.get(tag);
    if (!e) return null;
    const out: number[] = [];
    const d = this.data;
    for (let i = 0; i < e.count; i++) {
      switch (e.type) {
        case RpmType.CHAR:
        case RpmType.INT8:
          out.push(d[e.offset + i]!);
          break;
        case RpmType.INT16:
          out.push(d.readUInt16BE(e.offset + 2 * i));
          break;
        case RpmType.INT32:
          out.push(d.readUInt32BE(e.offset + 4 * i));
          break;
        case RpmType.INT64: {
          const v = d.readBigUInt64BE(e.offset + 8 * i);
          if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw new RpmFormatError(`${this.what}: tag ${e.tag} value ${v} is too large for a number`);
          }
          out.push(Number(v));
          break;
        }
        default:
          throw this.typeError(e, "an integer");
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
    const e = this.entries.get(tag);
    if (!e) return null;
    if (e.type !== RpmType.INT64) return this.numbers(tag)!.map(BigInt);
    const out: bigint[] = [];
    for (let i = 0; i < e.count; i++) out.push(this.data.readBigUInt64BE(e.offset + 8 * i));
    return out;
  }

  /** The raw bytes of a BIN (or CHAR/INT8) value; null when absent. A copy, safe to keep. */
  binary(tag: number): Buffer | null {
    const e = this.entries.get(tag);
    if (!e) return null;
    if (e.type !== RpmType.BIN && e.type !== RpmType.CHAR && e.type !== RpmType.INT8) {
      throw this.typeError(e, "binary");
    }
    return Buffer.from(this.data.subarray(e.offset, e.offset + e.length));
  }

  /** A BIN value as lowercase hex; null when absent. */
  hex(tag: number): string | null {
    return this.binary(tag)?.toString("hex") ?? null;
  }

  private readStrings(e: HeaderEntry, n: number): string[] {
    const out: string[] = [];
    let p = e.offset;
    const d = this.data;
    for (let i = 0; i < n; i++) {
      let end = p;
      while (d[end] !== 0) end++; // terminated: parseHeader checked every string
      out.push(end === p ? "" : d.toString("utf8", p, end));
      p = end + 1;
    }
    return out;
  }

  private typeError(e: HeaderEntry, wanted: string): RpmFormatError {
    return new RpmFormatError(
      `${this.what}: tag ${e.tag} has type ${TYPE_NAMES[e.type]}, expected ${wanted}`,
    );
  }
}

/** Parses one header from the start of `buf`. */
export function parseHeader(buf: Buffer, options: ParseHeaderOptions): RpmHeader {
  const what = options.what ?? "rpm header";
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
  const dataStart = intro + il * ENTRY_SIZE;
  const data = buf.subarray(dataStart, dataStart + dl);
  const raw = (i: number) => {
    const p = indexStart + i * ENTRY_SIZE;
    return {
      tag: buf.readUInt32BE(p),
      type: buf.readUInt32BE(p + 4),
      offset: buf.readInt32BE(p + 8),
      count: buf.readUInt32BE(p + 12),
    };
  };

  // The region: its entry comes first and points at a 16-byte trailer in the data store.
  let region: number | null = null;
  let ril = il;
  let rdl = dl;
  const first = raw(0);
  const isRegionTag = (t: number) =>
    t === tags.HEADERIMAGE || t === tags.HEADERSIGNATURES || t === tags.HEADERIMMUTABLE;
  const wantedRegion = options.regionTag ?? first.tag;
  if (isRegionTag(first.tag) && first.tag === wantedRegion) {
    if (first.type !== RpmType.BIN || first.count !== ENTRY_SIZE) {
      throw new RpmFormatError(
        `${what}: region tag ${first.tag} has type ${first.type} count ${first.count} (expected BIN, 16)`,
      );
    }
    if (first.offset < 0 || first.offset + ENTRY_SIZE > dl) {
      throw new RpmFormatError(
        `${what}: region trailer offset ${first.offset} outside the data store (${dl} bytes)`,
      );
    }
    const t = first.offset;
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
  } else if (isRegionTag(first.tag) || first.tag < tags.HEADERI18NTABLE) {
    const expected = options.regionTag ?? "61, 62 or 63";
    throw new RpmFormatError(
      `${what}: first tag ${first.tag} is neither the region tag (${expected}) nor a data tag`,
    );
  }

  // rpm checks the types of known tags in main headers only (signature tags reuse numbers).
  const typeCheck = region === tags.HEADERIMMUTABLE || region === tags.HEADERIMAGE;
  const entries = new Map<number, HeaderEntry>();
  const order: HeaderEntry[] = [];
  let end = 0;
  for (let i = region === null ? 0 : 1; i < il; i++) {
    const at = indexStart + i * ENTRY_SIZE;
    const tag = buf.readUInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const offset = buf.readInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    const problem = entryProblem(
      data,
      tag,
      type,
      offset,
      count,
      end,
      dl,
      region === null ? null : rdl,
      typeCheck,
    );
    if (typeof problem === "string") throw entryError(what, i, tag, type, offset, count, problem);
    const length = problem;
    end = offset + length;
    const entry = { tag, type: type as RpmTypeCode, offset, count, length };
    entries.set(tag, entry);
    order.push(entry);
  }
  checkAccounting(order, region === null ? null : first.offset === 0 ? il : ril, dl, !options.magic, what);
  return new RpmHeader({
    entries,
    data,
    index: buf.subarray(indexStart, dataStart),
    regionTag: region,
    regionEntries: ril,
    regionDataLength: rdl,
    byteLength: total,
    what,
  });
}

/** What is wrong with an index entry, or the length of its value when nothing is. */
function entryProblem(
  data: Buffer,
  tag: number,
  type: number,
  offset: number,
  count: number,
  end: number,
  dl: number,
  rdl: number | null,
  typeCheck: boolean,
): string | number {
  // rpm (4.18 and older) holds tags in an int32: 0x80000000 and above are negative, hence invalid.
  if (tag < tags.HEADERI18NTABLE || tag > 0x7fffffff) return "tag outside 100..2147483647 (a second region?)";
  if (type > RpmType.I18NSTRING) return "unknown type";
  if (count < 1 || count > dl) return `count outside 1..${dl}`;
  if (offset < 0 || offset > dl) return `offset outside the data store (${dl} bytes)`;
  if (offset % TYPE_ALIGN[type]! !== 0) return `offset not aligned to ${TYPE_ALIGN[type]}`;
  if (type !== RpmType.BIN && count > MAX_ARRAY) return `more than ${MAX_ARRAY} elements`;
  const declared = typeCheck ? DECLARED_TAG_TYPES.get(tag) : undefined;
  if (declared !== undefined && declared !== type && !(isStringType(declared) && isStringType(type))) {
    return `rpm declares this tag as ${TYPE_NAMES[declared]}`;
  }
  // rpm writes values in index order; an entry starting inside the previous one is corrupt.
  if (offset < end) return `overlaps the previous value (ends at ${end})`;
  const length = valueLength(data, type as RpmTypeCode, offset, count);
  if (length === null) return `value does not fit in the data store (${dl} bytes)`;
  if (length <= 0) return "empty value";
  if (rdl !== null && offset + length > rdl - ENTRY_SIZE && offset < rdl)
    return "overlaps the region trailer";
  return length;
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
  order: readonly HeaderEntry[],
  regionEntries: number | null,
  dl: number,
  fast: boolean,
  what: string,
): void {
  const sum = (list: readonly HeaderEntry[], start: number) => {
    let total = start;
    for (const [k, e] of list.entries()) {
      const size = TYPE_SIZE[e.type]!;
      if (size > 1 && total % size !== 0) total += size - (total % size);
      const next = list[k + 1];
      total += fast && next && size < 0 ? next.offset - e.offset : e.length;
    }
    return total;
  };
  let total: number;
  if (regionEntries === null) total = sum(order, 0);
  else {
    const inRegion = order.slice(0, regionEntries - 1);
    total = sum(order.slice(regionEntries - 1), sum(inRegion, 0)) + ENTRY_SIZE;
  }
  if (total !== dl) {
    throw new RpmFormatError(`${what}: values account for ${total} of ${dl} data bytes (rpm requires all)`);
  }
}

/** Bytes a value occupies, or null when it runs past the end of the store. */
function valueLength(data: Buffer, type: RpmTypeCode, offset: number, count: number): number | null {
  const size = TYPE_SIZE[type]!;
  if (size >= 0) {
    const length = size * count;
    return offset + length <= data.length ? length : null;
  }
  if (type === RpmType.STRING && count !== 1) return null;
  // A plain loop: most strings are short, and Buffer.indexOf costs more per call than it saves.
  const n = data.length;
  let p = offset;
  for (let left = count; left > 0; left--) {
    while (p < n && data[p] !== 0) p++;
    if (p >= n) return null;
    p++;
  }
  return p - offset;
}
