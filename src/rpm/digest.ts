/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { hash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";
import { nodeHashName, type PgpSignatureInfo } from "./pgp.js";

/** Reused for the region bytes of one header at a time (an installed header's region is not contiguous). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The immutable region as a package file stores it, in `scratch`, with `room` bytes free after it;
 * valid until the next call.
 */
function regionInScratch(h: RpmHeader, room = 0): Buffer {
  const indexBytes = 16 * h.regionEntries;
  const size = 16 + indexBytes + h.regionDataLength;
  if (scratch.length < size + room) scratch = Buffer.allocUnsafe(Math.max(size + room, 2 * scratch.length));
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
 * mismatch. A header with none of these, or without a region, passes. The region is copied out once and
 * each digest is one call over it (a signature's with its trailer appended): on every verify this runs
 * once per installed package, mostly before the JIT warms up, where Hash objects and their copies cost
 * more than hashing a header twice.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  if (h.regionTag === null) return;
  const rsa = signatureOf(h, tags.RSAHEADER, "RSAHEADER");
  const dsa = signatureOf(h, tags.DSAHEADER, "DSAHEADER");
  const sha256 = h.string(tags.SHA256HEADER);
  const sha1 = h.string(tags.SHA1HEADER);
  if (!rsa && !dsa && sha256 === null && sha1 === null) return;
  const room = Math.max(rsa?.hashTrailer?.length ?? 0, dsa?.hashTrailer?.length ?? 0);
  const region = regionInScratch(h, room);
  if (rsa) checkSigned(h, rsa, region.length, "RSAHEADER");
  if (dsa) checkSigned(h, dsa, region.length, "DSAHEADER");
  if (sha256 !== null && hash("sha256", region, "hex") !== sha256.toLowerCase())
    throw new RpmFormatError(`${h.what}: header SHA256 digest mismatch (damaged header)`);
  if (sha1 !== null && hash("sha1", region, "hex") !== sha1.toLowerCase())
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

/** The digest `sig` signs (the region in scratch, then its trailer) must start with the stored prefix. */
function checkSigned(h: RpmHeader, sig: PgpSignatureInfo, regionLength: number, label: string): void {
  const algorithm = nodeHashName(sig.hashAlgorithm);
  if (sig.hashTrailer === null || sig.hashPrefix === null || algorithm === null) return;
  sig.hashTrailer.copy(scratch, regionLength);
  const signed = hash(algorithm, scratch.subarray(0, regionLength + sig.hashTrailer.length), "hex");
  if (signed.slice(0, 4) !== sig.hashPrefix) {
    throw new RpmFormatError(`${h.what}: ${label} does not match the header (damaged header or signature)`);
  }
}
