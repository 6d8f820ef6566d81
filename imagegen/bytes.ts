/** Deterministic stand-ins for random data: the same seed always gives the same bytes and ids. */
import { createHash } from "node:crypto";

/** `n` incompressible bytes derived from `seed` (SHA-256 in counter mode). */
export function pseudoRandom(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) {
    createHash("sha256").update(`${seed}:${i}`).digest().copy(out, off);
  }
  return out;
}

/** A random-looking (version 4 shaped) UUID derived from `seed`. */
export function uuidFrom(seed: string): string {
  const h = createHash("sha256").update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** A FAT volume id (8 hex digits) derived from `seed`. */
export function volumeIdFrom(seed: string): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, 8).toUpperCase();
}
