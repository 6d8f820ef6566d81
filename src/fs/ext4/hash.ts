/**
 * The ext4 directory hash (legacy, half_md4, tea; signed and unsigned char variants) and the names the
 * Linux kernel shows for entries of an fscrypt-encrypted directory when the key is absent.
 * A linear directory read never needs the hash; only those "no-key" names do.
 */
import { createHash } from "node:crypto";

export const HASH_LEGACY = 0;
export const HASH_HALF_MD4 = 1;
export const HASH_TEA = 2;

const DEFAULT_SEED = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
const EOF_32BIT = 0x7fffffff;

export interface DirHash {
  hash: number;
  minor: number;
}

/** Hash of `name` as ext4fs_dirhash computes it; `seed` is s_hash_seed (all zeros: default seed). */
export function dirHash(name: Buffer, version: number, seed: readonly number[], unsigned: boolean): DirHash {
  const buf = seed.some((w) => w !== 0) && seed.length === 4 ? [...seed] : [...DEFAULT_SEED];
  let hash: number;
  let minor = 0;
  switch (version) {
    case HASH_LEGACY:
      hash = legacyHash(name, unsigned);
      break;
    case HASH_HALF_MD4: {
      for (let p = 0; p < name.length; p += 32) halfMd4(buf, toHashWords(name.subarray(p), 8, unsigned));
      hash = buf[1]!;
      minor = buf[2]!;
      break;
    }
    case HASH_TEA: {
      for (let p = 0; p < name.length; p += 16) tea(buf, toHashWords(name.subarray(p), 4, unsigned));
      hash = buf[0]!;
      minor = buf[1]!;
      break;
    }
    default:
      return { hash: 0, minor: 0 };
  }
  hash = (hash & ~1) >>> 0;
  if (hash === (EOF_32BIT << 1) >>> 0) hash = ((EOF_32BIT - 1) << 1) >>> 0;
  return { hash, minor: minor >>> 0 };
}

/**
 * The kernel's no-key name for an encrypted directory entry: unpadded base64url of the 8-byte hash
 * followed by the on-disk (ciphertext) name; names over 149 bytes keep 149 bytes plus a SHA-256 of the rest.
 */
export function noKeyName(ciphertext: Buffer, h: DirHash): string {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(h.hash, 0);
  head.writeUInt32LE(h.minor, 4);
  const keep = 149;
  const body =
    ciphertext.length <= keep
      ? ciphertext
      : Buffer.concat([
          ciphertext.subarray(0, keep),
          createHash("sha256").update(ciphertext.subarray(keep)).digest(),
        ]);
  return Buffer.concat([head, body]).toString("base64url");
}

/** str2hashbuf: packs up to num*4 bytes into `num` words, padded with a length-derived pattern. */
function toHashWords(msg: Buffer, num: number, unsigned: boolean): number[] {
  const len = msg.length;
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  const out: number[] = [];
  let val = pad;
  const n = Math.min(len, num * 4);
  for (let i = 0; i < n; i++) {
    const c = unsigned ? msg[i]! : (msg[i]! << 24) >> 24;
    val = (c + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out.push(val);
      val = pad;
    }
  }
  if (out.length < num) out.push(val);
  while (out.length < num) out.push(pad);
  return out;
}

function rol(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

const K2 = 0o13240474631;
const K3 = 0o15666365641;

function halfMd4(buf: number[], x: number[]): void {
  let a = buf[0]!;
  let b = buf[1]!;
  let c = buf[2]!;
  let d = buf[3]!;
  const F = (x: number, y: number, z: number) => z ^ (x & (y ^ z));
  const G = (x: number, y: number, z: number) => ((x & y) + ((x ^ y) & z)) >>> 0;
  const H = (x: number, y: number, z: number) => x ^ y ^ z;
  const w = (i: number, k: number) => (x[i]! + k) >>> 0;
  type Fn = (x: number, y: number, z: number) => number;
  // Each round: [function, constant, [word, shift] x 8] in the a, d, c, b rotation.
  const rounds: [Fn, number, [number, number][]][] = [
    [
      F,
      0,
      [
        [0, 3],
        [1, 7],
        [2, 11],
        [3, 19],
        [4, 3],
        [5, 7],
        [6, 11],
        [7, 19],
      ],
    ],
    [
      G,
      K2,
      [
        [1, 3],
        [3, 5],
        [5, 9],
        [7, 13],
        [0, 3],
        [2, 5],
        [4, 9],
        [6, 13],
      ],
    ],
    [
      H,
      K3,
      [
        [3, 3],
        [7, 9],
        [2, 11],
        [6, 15],
        [1, 3],
        [5, 9],
        [0, 11],
        [4, 15],
      ],
    ],
  ];
  for (const [f, k, steps] of rounds) {
    for (let i = 0; i < 8; i++) {
      const [wi, s] = steps[i]!;
      switch (i % 4) {
        case 0:
          a = rol((a + f(b, c, d) + w(wi, k)) >>> 0, s);
          break;
        case 1:
          d = rol((d + f(a, b, c) + w(wi, k)) >>> 0, s);
          break;
        case 2:
          c = rol((c + f(d, a, b) + w(wi, k)) >>> 0, s);
          break;
        default:
          b = rol((b + f(c, d, a) + w(wi, k)) >>> 0, s);
      }
    }
  }
  buf[0] = (buf[0]! + a) >>> 0;
  buf[1] = (buf[1]! + b) >>> 0;
  buf[2] = (buf[2]! + c) >>> 0;
  buf[3] = (buf[3]! + d) >>> 0;
}

function tea(buf: number[], x: number[]): void {
  let sum = 0;
  let b0 = buf[0]!;
  let b1 = buf[1]!;
  const [a, b, c, d] = x as [number, number, number, number];
  for (let n = 0; n < 16; n++) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >>> 5) + b)) >>> 0)) >>> 0;
    b1 = (b1 + ((((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >>> 5) + d)) >>> 0)) >>> 0;
  }
  buf[0] = (buf[0]! + b0) >>> 0;
  buf[1] = (buf[1]! + b1) >>> 0;
}

function legacyHash(name: Buffer, unsigned: boolean): number {
  let hash0 = 0x12a3fe2d;
  let hash1 = 0x37abe8f9;
  for (const byte of name) {
    const c = unsigned ? byte : (byte << 24) >> 24;
    let hash = (hash1 + ((hash0 ^ Math.imul(c, 7152373)) >>> 0)) >>> 0;
    if (hash & 0x80000000) hash = (hash - 0x7fffffff) >>> 0;
    hash1 = hash0;
    hash0 = hash;
  }
  return (hash0 << 1) >>> 0;
}
