/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { createHash, type Hash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";
import { nodeHashName, type PgpSignatureInfo } from "./pgp.js";

/**
 * A hash fed the immutable region as a package file stores it: magic and counts, the region's index
 * entries, its data. An installed header's region is not contiguous; its pieces are hashed in place.
 */
function regionHash(h: RpmHeader, algorithm: string): Hash {
  const intro = Buffer.allocUnsafe(16);
  HEADER_MAGIC.copy(intro, 0);
  intro.writeUInt32BE(h.regionEntries, 8);
  intro.writeUInt32BE(h.regionDataLength, 12);
  return createHash(algorithm)
    .update(intro)
    .update(h.index.subarray(0, 16 * h.regionEntries))
    .update(h.data.subarray(0, h.regionDataLength));
}

/** Digest of the header's immutable region; null for a header without a region. */
export function regionDigest(h: RpmHeader, algorithm: "sha256" | "sha1"): string | null {
  if (h.regionTag === null) return null;
  return regionHash(h, algorithm).digest("hex");
}

/**
 * Checks what rpm checks on every database read without needing keys: SHA256HEADER and SHA1HEADER
 * against the region, and for the header signatures (RSAHEADER, DSAHEADER) that the packet parses and
 * that the digest it signs starts with the two bytes the packet stores. Throws RpmFormatError on a
 * mismatch. A header with none of these, or without a region, passes. The region is hashed once per
 * algorithm: a signature's digest continues a copy of the region's hash with its trailer, and
 * SHA256HEADER finishes the same hash (an RSA header signature is SHA-256 in every AlmaLinux package).
 * Hashing is most of this; it runs once per installed package on every verify.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  if (h.regionTag === null) return;
  const rsa = signatureOf(h, tags.RSAHEADER, "RSAHEADER");
  const dsa = signatureOf(h, tags.DSAHEADER, "DSAHEADER");
  const sha256 = h.string(tags.SHA256HEADER);
  const sha1 = h.string(tags.SHA1HEADER);
  if (!rsa && !dsa && sha256 === null && sha1 === null) return;
  const hashes = new Map<string, Hash>();
  const partial = (algorithm: string) => {
    let started = hashes.get(algorithm);
    if (!started) {
      started = regionHash(h, algorithm);
      hashes.set(algorithm, started);
    }
    return started;
  };
  // Signatures first: finishing a digest below ends its shared hash.
  if (rsa) checkSigned(h, rsa, partial, "RSAHEADER");
  if (dsa) checkSigned(h, dsa, partial, "DSAHEADER");
  const finished = (algorithm: string) => partial(algorithm).digest("hex");
  if (sha256 !== null && finished("sha256") !== sha256.toLowerCase())
    throw new RpmFormatError(`${h.what}: header SHA256 digest mismatch (damaged header)`);
  if (sha1 !== null && finished("sha1") !== sha1.toLowerCase())
    throw new RpmFormatError(`${h.what}: header SHA1 digest mismatch (damaged header)`);
}

function signatureOf(h: RpmHeader, tag: number, label: string): PgpSignatureInfo | null {
  if (!h.has(tag)) return null;
  try {
    return h.pgpSignature(tag);
  } catch (e) {
    throw new RpmFormatError(`${h.what}: ${label}: ${(e as Error).message}`, { cause: e });
  }
}

/** The digest `sig` signs (the region, then its trailer) must start with the stored prefix. */
function checkSigned(
  h: RpmHeader,
  sig: PgpSignatureInfo,
  partial: (algorithm: string) => Hash,
  label: string,
): void {
  const algorithm = nodeHashName(sig.hashAlgorithm);
  if (sig.hashTrailer === null || sig.hashPrefix === null || algorithm === null) return;
  const signed = partial(algorithm).copy().update(sig.hashTrailer).digest("hex");
  if (signed.slice(0, 4) !== sig.hashPrefix) {
    throw new RpmFormatError(`${h.what}: ${label} does not match the header (damaged header or signature)`);
  }
}
