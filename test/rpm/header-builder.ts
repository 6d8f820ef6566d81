/**
 * A tiny, independent RPM header writer for tests: lays out values in tag order with rpm's alignment,
 * optionally inside an immutable region with its trailer, optionally followed by "dribble" entries.
 */

export type Value =
  | { type: "CHAR" | "INT8" | "INT16" | "INT32"; values: number[] }
  | { type: "INT64"; values: bigint[] }
  | { type: "STRING"; value: string }
  | { type: "BIN"; value: Buffer }
  | { type: "STRING_ARRAY" | "I18NSTRING"; values: string[] };

export interface Entry {
  tag: number;
  value: Value;
}

const CODES = {
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
};
const ALIGN: Record<string, number> = { INT16: 2, INT32: 4, INT64: 8 };

function encode(v: Value): { bytes: Buffer; count: number } {
  switch (v.type) {
    case "CHAR":
    case "INT8":
      return { bytes: Buffer.from(v.values), count: v.values.length };
    case "INT16": {
      const b = Buffer.alloc(2 * v.values.length);
      for (const [i, x] of v.values.entries()) b.writeUInt16BE(x, 2 * i);
      return { bytes: b, count: v.values.length };
    }
    case "INT32": {
      const b = Buffer.alloc(4 * v.values.length);
      for (const [i, x] of v.values.entries()) b.writeUInt32BE(x, 4 * i);
      return { bytes: b, count: v.values.length };
    }
    case "INT64": {
      const b = Buffer.alloc(8 * v.values.length);
      for (const [i, x] of v.values.entries()) b.writeBigUInt64BE(x, 8 * i);
      return { bytes: b, count: v.values.length };
    }
    case "STRING":
      return { bytes: Buffer.from(`${v.value}\0`), count: 1 };
    case "BIN":
      return { bytes: v.value, count: v.value.length };
    case "STRING_ARRAY":
    case "I18NSTRING":
      return { bytes: Buffer.from(v.values.map((s) => `${s}\0`).join("")), count: v.values.length };
  }
}

export interface BuildOptions {
  /** Wrap the entries in a region with this tag (63 HEADERIMMUTABLE by default; null: no region). */
  region?: number | null;
  /** Entries appended after the region (what rpm adds on install). */
  dribbles?: Entry[];
  /** Prefix the 8-byte header magic (package-file form). */
  magic?: boolean;
}

/** The header bytes. */
export function buildHeader(entries: Entry[], options: BuildOptions = {}): Buffer {
  const region = options.region === undefined ? 63 : options.region;
  const index: Buffer[] = [];
  let data = Buffer.alloc(0);
  const put = (e: Entry) => {
    const { bytes, count } = encode(e.value);
    const align = ALIGN[e.value.type] ?? 1;
    const pad = (align - (data.length % align)) % align;
    data = Buffer.concat([data, Buffer.alloc(pad), bytes]);
    const ie = Buffer.alloc(16);
    ie.writeUInt32BE(e.tag, 0);
    ie.writeUInt32BE(CODES[e.value.type], 4);
    ie.writeUInt32BE(data.length - bytes.length, 8);
    ie.writeUInt32BE(count, 12);
    index.push(ie);
  };
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  for (const e of sorted) put(e);
  if (region !== null) {
    // Region entry first, its trailer after the region's data: offset = -(entries in region * 16).
    const ril = sorted.length + 1;
    const trailer = Buffer.alloc(16);
    trailer.writeUInt32BE(region, 0);
    trailer.writeUInt32BE(7, 4);
    trailer.writeInt32BE(-ril * 16, 8);
    trailer.writeUInt32BE(16, 12);
    const regionEntry = Buffer.alloc(16);
    regionEntry.writeUInt32BE(region, 0);
    regionEntry.writeUInt32BE(7, 4);
    regionEntry.writeUInt32BE(data.length, 8);
    regionEntry.writeUInt32BE(16, 12);
    data = Buffer.concat([data, trailer]);
    index.unshift(regionEntry);
  }
  for (const e of options.dribbles ?? []) put(e);
  const intro = Buffer.alloc(8);
  intro.writeUInt32BE(index.length, 0);
  intro.writeUInt32BE(data.length, 4);
  const magic = options.magic ? Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([magic, intro, ...index, data]);
}

/** Byte offset of index entry `i` (0 = the region entry when there is one) in a header without magic. */
export function entryOffset(i: number): number {
  return 8 + 16 * i;
}

/** Byte offset of the data store in a header without magic. */
export function dataOffset(header: Buffer): number {
  return 8 + 16 * header.readUInt32BE(0);
}
