/**
 * parseHeader's index check in WebAssembly (header-index.wat): the same rules as header.ts's loop, at
 * native speed from the first header on. Checking an index is most of a verify's header parsing, and in
 * JavaScript a cold process interprets it (some 70 entries and 460 strings per real header, every
 * header of the database). The module says only pass or fail; header.ts's loop names the problem.
 */
import { HEADER_INDEX_WASM } from "./header-index-wasm.js";
import { DECLARED_TAG_TYPES } from "./tag-types.js";

interface Exports {
  readonly memory: WebAssembly.Memory;
  checkIndex(
    index: number,
    il: number,
    first: number,
    data: number,
    dl: number,
    table: number,
    typeCheck: number,
    trailerEnd: number,
    declTags: number,
  ): number;
}

/** Tags with a declared type are below this; their table fills memory from address 0. */
const DECL_TAGS = Math.max(...DECLARED_TAG_TYPES.keys()) + 1;
const BLOB_AT = align16(DECL_TAGS);
const PAGE = 65536;

function align16(n: number): number {
  return (n + 15) & ~15;
}

let instance: Exports | null | undefined;

/**
 * The instantiated module, or null where it cannot serve: an engine without WebAssembly SIMD, or a
 * big-endian host (the module writes the table little-endian; an Int32Array reads it in host order).
 */
function checker(): Exports | null {
  if (instance !== undefined) return instance;
  instance = null;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return instance;
  try {
    const module = new WebAssembly.Module(Buffer.from(HEADER_INDEX_WASM, "base64"));
    const exports = new WebAssembly.Instance(module).exports as unknown as Exports;
    const declared = new Uint8Array(exports.memory.buffer, 0, DECL_TAGS);
    for (const [tag, type] of DECLARED_TAG_TYPES) declared[tag] = type + 1;
    instance = exports;
  } catch {
    // stays null: header.ts checks in JavaScript
  }
  return instance;
}

export interface IndexToCheck {
  /** The header: index at indexStart (il entries of 16 bytes), data store (dl bytes) right after it. */
  readonly buf: Buffer;
  readonly indexStart: number;
  readonly il: number;
  /** The first entry to check (1 past a region entry). */
  readonly first: number;
  readonly dl: number;
  readonly typeCheck: boolean;
  /** End of the region trailer in the data store, or -1. */
  readonly trailerEnd: number;
}

/**
 * The table (tag, type, offset, count, length per entry from `first`) when every entry passes; null
 * when one does not, or where the module cannot run: the caller's own check then decides.
 */
export function checkIndexFast(h: IndexToCheck): Int32Array | null {
  const wasm = checker();
  if (wasm === null) return null;
  const blobLength = h.il * 16 + h.dl;
  // 16 spare bytes after the data store for the last 16-byte load
  const tableAt = align16(BLOB_AT + blobLength + 16);
  const entries = h.il - h.first;
  const needed = tableAt + entries * 20;
  const { memory } = wasm;
  if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
  new Uint8Array(memory.buffer).set(h.buf.subarray(h.indexStart, h.indexStart + blobLength), BLOB_AT);
  const failed = wasm.checkIndex(
    BLOB_AT,
    h.il,
    h.first,
    BLOB_AT + h.il * 16,
    h.dl,
    tableAt,
    h.typeCheck ? 1 : 0,
    h.trailerEnd,
    DECL_TAGS,
  );
  if (failed >= 0) return null;
  return new Int32Array(memory.buffer, tableAt, entries * 5).slice();
}
