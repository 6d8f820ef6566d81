/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { createHash, type Hash, hash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";
import { nodeHashName, type PgpSignatureInfo } from "./pgp.js";

/** Reused for the region bytes of one header at a time (an installed header's region is not contiguous). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** The immutable region as a package file stores it, in `scratch`; valid until the next call. */
function regionInScratch(h: RpmHeader): Buffer {
  const indexBytes = 16 * h.regionEntries;
  const size = 16 + indexBytes + h.regionDataLength;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  HEADER_MAGIC.copy(scratch, 0);
  scratch.writeUInt32BE(h.regionEntries, 8);
  scratch.writeUInt32BE(h.regionDataLength, 12);
  h.index.copy(scratch, 16, 0, indexBytes);
  h.data.copy(scratch, 16 + indexBytes, 0, h.regionDataLength);
  return scratch.subarray(0, size);
}

/** Digest of the header's immutable region; null for a header without a region. */
export function regionDigest(h: RpmHeader, algorithm: "sha256" | "sha1"): string | null {
  if (h.regionTag === null) return null;
  return hash(algorithm, regionInScratch(h), "hex");
}

/**
 * Checks what rpm checks on every database read without needing keys: SHA256HEADER and SHA1HEADER
 * against the region, and for the header signatures (RSAHEADER, DSAHEADER) that the packet parses and
 * that the digest it signs starts with the two bytes the packet stores. Throws RpmFormatError on a
 * mismatch. A header with none of these, or without a region, passes. The region is copied out once
 * and hashed once per algorithm: a signature's digest continues a copy of the region's hash with its
 * trailer, and SHA256HEADER finishes the same hash (an RSA header signature is SHA-256 in every
 * AlmaLinux package). Hashing is most of this; it runs once per installed package on every verify.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  if (h.regionTag === null) return;
  const rsa = signatureOf(h, tags.RSAHEADER, "RSAHEADER");
  const dsa = signatureOf(h, tags.DSAHEADER, "DSAHEADER");
  const sha256 = h.string(tags.SHA256HEADER);
  const sha1 = h.string(tags.SHA1HEADER);
  if (!rsa && !dsa && sha256 === null && sha1 === null) return;
  const region = regionInScratch(h);
  const regionHashes = new Map<string, Hash>();
  const regionHash = (algorithm: string) => {
    let partial = regionHashes.get(algorithm);
    if (!partial) {
      partial = createHash(algorithm).update(region);
      regionHashes.set(algorithm, partial);
    }
    return partial;
  };
  // Signatures first: finishing a digest below ends its shared hash.
  if (rsa) checkSigned(h, rsa, regionHash, "RSAHEADER");
  if (dsa) checkSigned(h, dsa, regionHash, "DSAHEADER");
  const finished = (algorithm: string) =>
    regionHashes.get(algorithm)?.digest("hex") ?? hash(algorithm, region, "hex");
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
  regionHash: (algorithm: string) => Hash,
  label: string,
): void {
  const algorithm = nodeHashName(sig.hashAlgorithm);
  if (sig.hashTrailer === null || sig.hashPrefix === null || algorithm === null) return;
  const signed = regionHash(algorithm).copy().update(sig.hashTrailer).digest("hex");
  if (signed.slice(0, 4) !== sig.hashPrefix) {
    throw new RpmFormatError(`${h.what}: ${label} does not match the header (damaged header or signature)`);
  }
}
