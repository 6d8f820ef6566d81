/**
 * The WebAssembly index check (src/rpm/header-index.wat) against the JavaScript one (checkIndex): each
 * rule is broken alone in a header built for it, and both checks must reject it; valid headers that
 * reach each rule's edge, and every real header, both must accept with the same table. The fuzz test
 * compares the two on mutated real headers as well.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import { checkIndexFast } from "../../src/rpm/header-index.js";
import { checkIndex, locateHeader, readSqlitePackages } from "../../src/rpm/index.js";
import { buildHeader, type Entry, entryOffset } from "./header-builder.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));

const S = (tag: number, value: string): Entry => ({ tag, value: { type: "STRING", value } });
const I32 = (tag: number, ...values: number[]): Entry => ({ tag, value: { type: "INT32", values } });

/** Strings crossing 16-byte blocks, and more than 16 of them in one block; 64 bytes in all. */
const NAMES = [..."abcdefghijklmnopqrstu", "", "x".repeat(20)];

/**
 * NAME "ab" (0..3), EPOCH after a 1-byte pad (4..8), FILEMODES (8..12), BASENAMES (12..76), a 4-byte
 * pad, LONGSIZE (80..88), the region trailer.
 */
const BASE: Entry[] = [
  S(1000, "ab"),
  I32(1003, 1),
  { tag: 1030, value: { type: "INT16", values: [1, 2] } },
  { tag: 1117, value: { type: "STRING_ARRAY", values: NAMES } },
  { tag: 5009, value: { type: "INT64", values: [7n] } },
];
/** Index positions in BASE's header (0 is the region entry). */
const E = { NAME: 1, EPOCH: 2, FILEMODES: 3, BASENAMES: 4, LONGSIZE: 5 };

/** Sets field f (0 tag, 1 type, 2 offset, 3 count) of index entry `i` (header without magic). */
function set(b: Buffer, i: number, f: number, v: number): Buffer {
  b.writeUInt32BE(v >>> 0, entryOffset(i) + 4 * f);
  return b;
}
const get = (b: Buffer, i: number, f: number) => b.readUInt32BE(entryOffset(i) + 4 * f);

/** Both checks of the header's index: the JavaScript one's table or error, the WebAssembly one's table. */
function checks(blob: Buffer) {
  const { index } = locateHeader(blob, { magic: false }, "test");
  let js: Int32Array | RpmFormatError;
  try {
    js = checkIndex(index, "test");
  } catch (e) {
    if (!(e instanceof RpmFormatError)) throw e;
    js = e;
  }
  return { js, fast: checkIndexFast(index) };
}

type Broken = [string, () => Buffer, RegExp];

const base = () => buildHeader(BASE);
/** No region, a single value at the end of the store. */
const alone = (e: Entry) => buildHeader([e], { region: null });

const BROKEN: Broken[] = [
  ["tag 99", () => set(base(), E.NAME, 0, 99), /tag outside 100/],
  ["tag 0x80000000", () => set(base(), E.LONGSIZE, 0, 0x80000000), /tag outside 100/],
  ["type 10", () => set(base(), E.NAME, 1, 10), /unknown type/],
  ["count 0", () => set(base(), E.EPOCH, 3, 0), /count outside/],
  ["count one more than the store", () => set(base(), E.NAME, 3, 105), /count outside 1\.\.104/],
  ["negative offset", () => set(base(), E.EPOCH, 2, -4), /offset outside/],
  ["offset past the store", () => set(base(), E.LONGSIZE, 2, 120), /offset outside/],
  ["INT32 at an odd offset after a gap", () => set(base(), E.EPOCH, 2, 3), /not aligned to 4/],
  [
    "INT16 at an odd offset, not overlapping",
    () => set(set(base(), E.FILEMODES, 3, 1), E.FILEMODES, 2, 9),
    /not aligned to 2/,
  ],
  ["INT64 aligned to 4 only, after a gap", () => set(base(), E.LONGSIZE, 2, 76), /not aligned to 8/],
  [
    "more than 0xfffff INT8 elements",
    () => alone({ tag: 1200, value: { type: "INT8", values: new Array(0x100000).fill(1) } }),
    /more than 1048575 elements/,
  ],
  ["a STRING tag holding an INT32", () => set(base(), E.NAME, 1, 4), /declares this tag as STRING/],
  [
    "INT16 starting inside the INT32 before it",
    () => set(base(), E.FILEMODES, 2, 6),
    /overlaps the previous/,
  ],
  ["STRING with count 2", () => set(base(), E.NAME, 3, 2), /does not fit/],
  [
    "last string without its NUL",
    () => {
      const b = alone({ tag: 1117, value: { type: "STRING_ARRAY", values: NAMES } });
      b.writeUInt32BE(b.readUInt32BE(4) - 1, 4);
      return b.subarray(0, b.length - 1);
    },
    /does not fit/,
  ],
  ["INT32 array one past the store", () => set(alone(I32(1200, 1, 2)), 0, 3, 3), /does not fit/],
  ["NULL type", () => set(alone(I32(1200, 1)), 0, 1, 0), /empty value/],
  ["INT64 running into the region trailer", () => set(base(), E.LONGSIZE, 3, 2), /region trailer/],
];

describe("rules broken alone: both checks reject", () => {
  it.each(BROKEN.map(([name, make, message]) => [name, make, message] as const))(
    "%s",
    (_name, make, message) => {
      const { js, fast } = checks(make());
      expect(js).toBeInstanceOf(RpmFormatError);
      expect((js as Error).message).toMatch(message);
      expect(fast).toBeNull();
    },
  );
});

const VALID: [string, () => Buffer][] = [
  ["the base header", base],
  ["the base header with dribbles after the trailer", () => buildHeader(BASE, { dribbles: [I32(1008, 9)] })],
  ["a STRING tag holding an I18NSTRING (string types mix)", () => set(base(), E.NAME, 1, 9)],
  [
    "a signature region: no declared types (tag 1000 as INT32)",
    () => buildHeader([I32(1000, 5), I32(1007, 6)], { region: 62 }),
  ],
  [
    "strings ending at the end of the store",
    () => alone({ tag: 1117, value: { type: "STRING_ARRAY", values: NAMES } }),
  ],
  ["one INT8 per byte of the store", () => alone({ tag: 1200, value: { type: "INT8", values: [1, 2, 3] } })],
  [
    "0xfffff INT8 elements",
    () => alone({ tag: 1200, value: { type: "INT8", values: new Array(0xfffff).fill(1) } }),
  ],
  [
    "a BIN value of more than 0xfffff bytes",
    () => alone({ tag: 1012, value: { type: "BIN", value: Buffer.alloc(0x100001, 1) } }),
  ],
];

describe("valid headers: both checks accept, with the same table", () => {
  it("BASE lays out as its comment says", () => {
    const b = base();
    expect([E.NAME, E.EPOCH, E.FILEMODES, E.BASENAMES, E.LONGSIZE].map((i) => get(b, i, 2))).toEqual([
      0, 4, 8, 12, 80,
    ]);
    expect(NAMES.join("\0").length + 1).toBe(64);
    expect(b.readUInt32BE(4)).toBe(104);
  });

  it.each(VALID)("%s", (_name, make) => {
    const { js, fast } = checks(make());
    expect(js).toBeInstanceOf(Int32Array);
    expect(fast).toEqual(js);
  });

  it("every real installed header (CBL-Mariner's rpmdb.sqlite)", () => {
    const rows = readSqlitePackages(readFileSync(`${DATA}/sqlite-cbl-mariner-2.0/rpmdb.sqlite`));
    expect(rows.length).toBeGreaterThan(100);
    for (const { blob } of rows) {
      const { js, fast } = checks(blob);
      expect(js).toBeInstanceOf(Int32Array);
      expect(fast).toEqual(js);
    }
  });
});

describe("the module's bytes", () => {
  it("are the assembly of header-index.wat (scripts/wat.mjs --check)", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "scripts/wat.mjs"), "--check"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("--check fails when the .wat was changed and not assembled", () => {
    const dir = mkdtempSync(join(tmpdir(), "wat-"));
    try {
      mkdirSync(join(dir, "src/rpm"), { recursive: true });
      copyFileSync(join(ROOT, "src/rpm/header-index-wasm.ts"), join(dir, "src/rpm/header-index-wasm.ts"));
      const wat = readFileSync(join(ROOT, "src/rpm/header-index.wat"), "utf8");
      writeFileSync(
        join(dir, "src/rpm/header-index.wat"),
        wat.replace("(i32.const 0xfffff)", "(i32.const 0xffff)"),
      );
      const run = spawnSync(process.execPath, [join(ROOT, "scripts/wat.mjs"), "--check"], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/is not the assembly of src\/rpm\/header-index\.wat/);
      execFileSync(process.execPath, [join(ROOT, "scripts/wat.mjs")], { cwd: dir });
      expect(readFileSync(join(dir, "src/rpm/header-index-wasm.ts"), "utf8")).not.toBe(
        readFileSync(join(ROOT, "src/rpm/header-index-wasm.ts"), "utf8"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
