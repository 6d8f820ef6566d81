/**
 * Seeded mutations for fuzz tests: bit flips, truncation, random and "interesting" overwrites,
 * aimed at the metadata regions a format reader trusts. Same seed, same mutation.
 */

import { seededRandom } from "../../src/retry.js";

/** A deterministic generator of numbers in [0, 1). */
export type Rng = () => number;

export const rng: (seed: number) => Rng = seededRandom;

/** An integer in [lo, hi). */
export function randInt(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * Math.max(0, hi - lo));
}

export function pick<T>(r: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[randInt(r, 0, items.length)]!;
}

export function randomBytes(r: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** A byte range [start, end) of the input worth mutating (a header, a table, an entry array). */
export interface Region {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export interface Mutation {
  readonly data: Buffer;
  /** What was done, for reproducing a failure. */
  readonly description: string;
}

function clampRegion(buf: Buffer, region?: Region): Region {
  const start = Math.max(0, Math.min(region?.start ?? 0, buf.length));
  const end = Math.max(start, Math.min(region?.end ?? buf.length, buf.length));
  return {
    name: region?.name ?? "anywhere",
    start,
    end: end > start ? end : Math.min(buf.length, start + 1),
  };
}

/** Flips `count` random bits inside the region. */
export function flipBits(buf: Buffer, r: Rng, count: number, region?: Region): Mutation {
  const out = Buffer.from(buf);
  const g = clampRegion(out, region);
  const at: string[] = [];
  for (let i = 0; i < count && g.end > g.start; i++) {
    const byte = randInt(r, g.start, g.end);
    const bit = randInt(r, 0, 8);
    out[byte]! ^= 1 << bit;
    at.push(`${byte}.${bit}`);
  }
  return { data: out, description: `flip bits ${at.join(",")} in ${g.name}` };
}

/** Cuts the input at a random length (anywhere, or inside the region). */
export function truncate(buf: Buffer, r: Rng, region?: Region): Mutation {
  const g = clampRegion(buf, region);
  const length = randInt(r, g.start, g.end);
  return {
    data: Buffer.from(buf.subarray(0, length)),
    description: `truncate to ${length} bytes (${g.name})`,
  };
}

/** Overwrites up to `maxLength` bytes in the region with random bytes. */
export function overwriteRandom(buf: Buffer, r: Rng, region?: Region, maxLength = 64): Mutation {
  const out = Buffer.from(buf);
  const g = clampRegion(out, region);
  const at = randInt(r, g.start, g.end);
  const n = Math.min(randInt(r, 1, maxLength + 1), out.length - at);
  randomBytes(r, n).copy(out, at);
  return { data: out, description: `overwrite ${n} random bytes at ${at} (${g.name})` };
}

/** Values that tend to break length and offset arithmetic. */
const INTERESTING: readonly number[][] = [
  [0x00, 0x00, 0x00, 0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0x7f, 0xff, 0xff, 0xff],
  [0x80, 0x00, 0x00, 0x00],
  [0x00, 0x00, 0x00, 0x01],
  [0x01, 0x00, 0x00, 0x00],
  [0x00, 0x00, 0x10, 0x00],
  [0xff, 0xff, 0xff, 0xfe],
];

/** Overwrites an aligned 4- or 8-byte field in the region with an extreme value. */
export function overwriteInteresting(buf: Buffer, r: Rng, region?: Region): Mutation {
  const out = Buffer.from(buf);
  const g = clampRegion(out, region);
  const width = r() < 0.5 ? 4 : 8;
  const at = Math.min(g.start + randInt(r, 0, Math.ceil((g.end - g.start) / width)) * width, out.length);
  const value = pick(r, INTERESTING);
  const bytes = width === 4 ? value : r() < 0.5 ? [...value, ...value] : [0, 0, 0, 0, ...value];
  const n = Math.min(bytes.length, out.length - at);
  for (let i = 0; i < n; i++) out[at + i] = bytes[i]!;
  return {
    data: out,
    description: `write ${Buffer.from(bytes).toString("hex")} at ${at} (${g.name})`,
  };
}

/** One random mutation, aimed at one of the regions (or anywhere) most of the time. */
export function mutate(buf: Buffer, r: Rng, regions: readonly Region[] = []): Mutation {
  const region = regions.length > 0 && r() < 0.85 ? pick(r, regions) : undefined;
  const kind = r();
  if (kind < 0.35) return flipBits(buf, r, randInt(r, 1, 9), region);
  if (kind < 0.6) return overwriteInteresting(buf, r, region);
  if (kind < 0.85) return overwriteRandom(buf, r, region);
  return truncate(buf, r, r() < 0.5 ? region : undefined);
}

/** Several mutations in a row. */
export function mutateMany(buf: Buffer, r: Rng, regions: readonly Region[], count: number): Mutation {
  let data = buf;
  const steps: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = mutate(data, r, regions);
    data = m.data;
    steps.push(m.description);
  }
  return { data, description: steps.join("; ") };
}
