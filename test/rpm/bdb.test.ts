/**
 * The Berkeley DB hash reader on pairs of every shape db5.3_load writes: short keys and values on the
 * bucket page, off-page (overflow) values, off-page keys, and pairs whose key and value are both
 * off-page (assembled side by side in reused memory). Each pair must come back exactly as it went in.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { forEachBdbRecord, readBdbHash } from "../../src/rpm/index.js";
import { dbLoad, type KeyValue } from "../helpers/bdb.js";

const work = mkdtempSync(join(tmpdir(), "bdb-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `n` bytes that differ from pair to pair and along the item. */
function bytes(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7 + (i >> 8)) & 0xff;
  return b;
}

const PAIRS: KeyValue[] = [];
for (let i = 0; i < 60; i++) {
  const shape = i % 4;
  const key = shape >= 2 ? bytes(i, 2000 + 97 * i) : Buffer.from(`key-${i}`);
  const value = shape % 2 === 1 ? bytes(i + 1000, 3000 + 211 * i) : Buffer.from(`value-${i}`);
  PAIRS.push({ key, value });
}

const asMap = (pairs: readonly KeyValue[]) =>
  new Map(pairs.map((p) => [p.key.toString("hex"), p.value.toString("hex")]));

it.each([
  ["4 KiB pages, little-endian", { pageSize: 4096 }],
  ["512-byte pages, big-endian", { pageSize: 512, bigEndian: true }],
])("every pair comes back as it went in (%s)", (_label, options) => {
  const file = join(work, `${options.pageSize}.db`);
  dbLoad(file, "hash", PAIRS, options);
  const data = readFileSync(file);
  const records = readBdbHash(data);
  expect(records).toHaveLength(PAIRS.length);
  expect(asMap(records)).toEqual(asMap(PAIRS));
  // Copied out: records stay as they were when the file's memory changes.
  data.fill(0);
  expect(asMap(records)).toEqual(asMap(PAIRS));
});

it("the visitor sees each pair in the same order, valid during its call", () => {
  const file = join(work, "visit.db");
  dbLoad(file, "hash", PAIRS, { pageSize: 1024 });
  const data = readFileSync(file);
  const seen: KeyValue[] = [];
  forEachBdbRecord(data, (key, value) => seen.push({ key: Buffer.from(key), value: Buffer.from(value) }));
  expect(seen.map((p) => p.key.toString("hex"))).toEqual(readBdbHash(data).map((p) => p.key.toString("hex")));
  expect(asMap(seen)).toEqual(asMap(PAIRS));
});
