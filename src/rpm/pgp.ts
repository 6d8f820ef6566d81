/**
 * Just enough OpenPGP (RFC 4880 / 9580) to describe an RPM header signature the way rpm's
 * `%{RSAHEADER:pgpsig}` does ("RSA/SHA256, Mon Apr  3 18:10:39 2023, Key ID 199e2f91fd431d51") and to
 * apply the packet checks rpm applies without a key: one well-formed signature packet filling its
 * buffer, subpacket areas that parse exactly, a hashed creation time, no unknown critical subpacket,
 * signature values (MPIs) that fill the packet for the algorithms rpm knows. Newer versions and
 * algorithms are described but not checked further, so future packages still read. Nothing is verified
 * cryptographically; see digest.ts for the digest-prefix check.
 */
import { RpmFormatError } from "../errors.js";

export interface PgpSignatureInfo {
  /** 3, 4, 5 or 6. */
  readonly version: number;
  /** OpenPGP public-key algorithm number and rpm's name for it ("RSA", "DSA", "EdDSA"...). */
  readonly pubkeyAlgorithm: number;
  readonly pubkeyAlgorithmName: string;
  readonly hashAlgorithm: number;
  readonly hashAlgorithmName: string;
  /** Signature creation time, Unix seconds (null when the packet has none). */
  readonly created: number | null;
  /** Issuer key ID, 16 lowercase hex digits (null when the packet names no issuer). */
  readonly keyId: string | null;
  /**
   * What the signer hashed after the signed data (v3: type and time; v4: the hashed part and its
   * trailer), and the first two bytes of the resulting digest as the packet stores them (hex). Null for
   * v5/v6 packets, whose hashing this module does not model.
   */
  readonly hashTrailer: Buffer | null;
  readonly hashPrefix: string | null;
}

// rpm's rpmio/rpmpgpval.hh names.
const PUBKEY_NAMES: Record<number, string> = {
  1: "RSA",
  2: "RSA(Encrypt-Only)",
  3: "RSA(Sign-Only)",
  16: "Elgamal(Encrypt-Only)",
  17: "DSA",
  18: "Elliptic Curve",
  19: "ECDSA",
  20: "Elgamal",
  21: "Diffie-Hellman (X9.42)",
  22: "EdDSA",
  25: "X25519",
  26: "X448",
  27: "Ed25519",
  28: "Ed448",
};
const HASH_NAMES: Record<number, string> = {
  1: "MD5",
  2: "SHA1",
  3: "RIPEMD160",
  5: "MD2",
  6: "TIGER192",
  7: "HAVAL-5-160",
  8: "SHA256",
  9: "SHA384",
  10: "SHA512",
  11: "SHA224",
  12: "SHA3-256",
  14: "SHA3-512",
};
const NODE_HASHES: Record<number, string> = {
  1: "md5",
  2: "sha1",
  3: "ripemd160",
  8: "sha256",
  9: "sha384",
  10: "sha512",
  11: "sha224",
  12: "sha3-256",
  14: "sha3-512",
};
/** Signature values (MPIs) per algorithm, where the count is fixed: RSA s; DSA and EdDSA r, s. */
const MPI_COUNT: Record<number, number> = { 1: 1, 17: 2, 22: 2 };

const SIGNATURE_PACKET = 2;
const SUBPACKET_CREATION_TIME = 2;
const SUBPACKET_ISSUER = 16;
const SUBPACKET_KEY_FLAGS = 27;
const SUBPACKET_ISSUER_FINGERPRINT = 33;
const CRITICAL = 0x80;
/** Signature types rpm takes the issuer from: binary, text, standalone, positive certification. */
const ISSUER_SIGTYPES = new Set([0x00, 0x01, 0x02, 0x13]);

/**
 * Parses `pkt`, which must be exactly one signature packet. Written as plain loops over the bytes: it
 * runs once per installed package on every verify, mostly before the JIT has warmed up.
 */
export function parsePgpSignature(pkt: Buffer): PgpSignatureInfo {
  const body = packetBody(pkt);
  const n = body.length;
  if (n < 1) throw bad("truncated packet");
  const version = body[0]!;
  if (version === 3) {
    if (n < 20) throw bad("truncated packet");
    if (body[1] !== 5) throw bad("v3 hashed length is not 5");
    const pubkey = body[15]!;
    checkMpis(body, 19, pubkey);
    const trailer = Buffer.allocUnsafe(5);
    body.copy(trailer, 0, 2, 7);
    return describe(
      version,
      pubkey,
      body[16]!,
      body.readUInt32BE(3),
      body.toString("hex", 7, 15),
      trailer,
      body.toString("hex", 17, 19),
    );
  }
  if (version !== 4 && version !== 5 && version !== 6) throw bad(`unsupported version ${version}`);
  if (n < 7) throw bad("truncated packet");
  const sigtype = body[1]!;
  const pubkey = body[2]!;
  const hash = body[3]!;
  // v6 uses 4-byte subpacket area lengths, v4/v5 two bytes.
  const lengthBytes = version === 6 ? 4 : 2;
  let q = 4;
  let created: number | null = null;
  let keyId: string | null = null;
  let hashedEnd = 0;
  for (let pass = 0; pass < 2; pass++) {
    const hashed = pass === 0;
    if (n < q + lengthBytes) throw bad("truncated packet");
    const areaLen = lengthBytes === 4 ? body.readUInt32BE(q) : body.readUInt16BE(q);
    q += lengthBytes;
    const end = q + areaLen;
    if (n < end) throw bad("truncated packet");
    let keyFlags = false;
    let i = q;
    while (i < end) {
      const l0 = body[i]!;
      let len: number;
      if (l0 < 192) {
        len = l0;
        i += 1;
      } else if (l0 < 255) {
        if (i + 2 > end) throw bad("truncated subpacket length");
        len = ((l0 - 192) << 8) + body[i + 1]! + 192;
        i += 2;
      } else {
        if (i + 5 > end) throw bad("truncated subpacket length");
        len = body.readUInt32BE(i + 1);
        i += 5;
      }
      if (len < 1 || i + len > end) throw bad("subpacket overruns its area");
      const type = body[i]! & ~CRITICAL;
      const critical = (body[i]! & CRITICAL) !== 0;
      // the value: [v, v + vlen)
      const v = i + 1;
      const vlen = len - 1;
      let known = false;
      if (type === SUBPACKET_CREATION_TIME && hashed && vlen === 4) {
        if (created !== null) throw bad("two creation times");
        created = body.readUInt32BE(v);
        known = true;
      } else if (type === SUBPACKET_ISSUER) {
        known = true;
        if (vlen === 8 && ISSUER_SIGTYPES.has(sigtype)) keyId ??= body.toString("hex", v, v + 8);
      } else if (type === SUBPACKET_KEY_FLAGS && hashed) {
        if (keyFlags) throw bad("two key-flags subpackets");
        keyFlags = known = true;
      } else if (type === SUBPACKET_ISSUER_FINGERPRINT && vlen >= 21) {
        known = true;
        // Key version 4: the key ID is the fingerprint's last 8 bytes; v5/v6 keys: its first 8.
        const from = body[v] === 4 ? v + vlen - 8 : v + 1;
        keyId ??= body.toString("hex", from, from + 8);
      }
      if (critical && !known) throw bad(`unknown critical subpacket ${type}`);
      i += len;
    }
    q = end;
    if (hashed) {
      hashedEnd = q;
      if (created === null && version === 4) throw bad("no creation time in the hashed area");
    }
  }
  if (n < q + 2) throw bad("truncated packet");
  if (version !== 4) return describe(version, pubkey, hash, created, keyId, null, null);
  // the hashed part, then 0x04 0xff and its length as a 4-byte big-endian number
  const trailer = Buffer.allocUnsafe(hashedEnd + 6);
  body.copy(trailer, 0, 0, hashedEnd);
  trailer[hashedEnd] = 0x04;
  trailer[hashedEnd + 1] = 0xff;
  trailer.writeUInt32BE(hashedEnd, hashedEnd + 2);
  checkMpis(body, q + 2, pubkey);
  return describe(version, pubkey, hash, created, keyId, trailer, body.toString("hex", q, q + 2));
}

function bad(why: string): RpmFormatError {
  return new RpmFormatError(`OpenPGP signature: ${why}`);
}

/** The body of the one packet in `pkt` (old or new format header); it must be a signature. */
function packetBody(pkt: Buffer): Buffer {
  if (pkt.length < 2) throw bad("too short");
  const b0 = pkt[0]!;
  if ((b0 & 0x80) === 0) throw bad("not an OpenPGP packet");
  let tag: number;
  let p: number;
  let len: number;
  if (b0 & 0x40) {
    tag = b0 & 0x3f;
    const l0 = pkt[1]!;
    if (l0 < 192) {
      len = l0;
      p = 2;
    } else if (l0 < 224) {
      if (pkt.length < 3) throw bad("truncated length");
      len = ((l0 - 192) << 8) + pkt[2]! + 192;
      p = 3;
    } else if (l0 === 255) {
      if (pkt.length < 6) throw bad("truncated length");
      len = pkt.readUInt32BE(2);
      p = 6;
    } else throw bad("partial body length");
  } else {
    tag = (b0 >> 2) & 0x0f;
    const lt = b0 & 3;
    if (lt === 3) throw bad("indeterminate length");
    const n = 1 << lt;
    if (pkt.length < 1 + n) throw bad("truncated length");
    len = pkt.readUIntBE(1, n);
    p = 1 + n;
  }
  if (tag !== SIGNATURE_PACKET) throw bad(`packet tag ${tag} is not a signature`);
  if (p + len !== pkt.length) {
    throw bad(`a packet of ${len} bytes in a ${pkt.length - p}-byte buffer (one packet must fill it)`);
  }
  return pkt.subarray(p);
}

/** For algorithms with a fixed count, the MPIs from `at` must fill the packet exactly. */
function checkMpis(body: Buffer, at: number, pubkey: number): void {
  const count = MPI_COUNT[pubkey];
  if (count === undefined) return;
  let p = at;
  for (let i = 0; i < count; i++) {
    if (p + 2 > body.length) throw bad(`signature value ${i + 1} of ${count} is missing`);
    p += 2 + ((body.readUInt16BE(p) + 7) >> 3);
    if (p > body.length) throw bad(`signature value ${i + 1} runs past the packet`);
  }
  if (p !== body.length) throw bad(`${body.length - p} bytes after the signature values`);
}

function describe(
  version: number,
  pubkey: number,
  hash: number,
  created: number | null,
  keyId: string | null,
  hashTrailer: Buffer | null,
  hashPrefix: string | null,
): PgpSignatureInfo {
  return {
    version,
    pubkeyAlgorithm: pubkey,
    pubkeyAlgorithmName: PUBKEY_NAMES[pubkey] ?? "Unknown public key algorithm",
    hashAlgorithm: hash,
    hashAlgorithmName: HASH_NAMES[hash] ?? "Unknown hash algorithm",
    created,
    keyId,
    hashTrailer,
    hashPrefix,
  };
}

/** Node's name for an OpenPGP hash algorithm; null when Node cannot compute it. */
export function nodeHashName(algorithm: number): string | null {
  return NODE_HASHES[algorithm] ?? null;
}

/**
 * rpm's pgpsig text: "RSA/SHA256, <date>, Key ID <hex>". rpm prints the date with strftime("%c") in the
 * local time zone; this prints it as the C locale does in UTC ("Mon Apr  3 18:10:39 2023").
 */
export function formatPgpSignature(sig: Omit<PgpSignatureInfo, "hashTrailer" | "hashPrefix">): string {
  const date = sig.created === null ? "(no date)" : cLocaleDate(sig.created);
  return `${sig.pubkeyAlgorithmName}/${sig.hashAlgorithmName}, ${date}, Key ID ${sig.keyId ?? "(none)"}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** strftime("%c") in the C locale, UTC: "Mon Apr  3 18:10:39 2023". */
export function cLocaleDate(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`
  );
}
