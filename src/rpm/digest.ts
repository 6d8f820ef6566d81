/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { createHash, type Hash, hash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";
import { nodeHashName } from "./pgp.js";

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
 * mismatch. A header with none of these, or without a region, passes. The region is hashed once per
 * algorithm: the signed digest continues from a copy of the region's hash state.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  if (h.regionTag === null) return;
  const states = new Map<string, Hash>();
  let region: Buffer | null = null;
  const regionHash = (algorithm: string): Hash => {
    let state = states.get(algorithm);
    if (!state) {
      region ??= regionInScratch(h);
      state = createHash(algorithm).update(region);
      states.set(algorithm, state);
    }
    return state;
  };
  for (const [tag, label] of [
    [tags.RSAHEADER, "RSAHEADER"],
    [tags.DSAHEADER, "DSAHEADER"],
  ] as const) {
    if (!h.has(tag)) continue;
    let sig: ReturnType<RpmHeader["pgpSignature"]>;
    try {
      sig = h.pgpSignature(tag)!;
    } catch (e) {
      throw new RpmFormatError(`${h.what}: ${label}: ${(e as Error).message}`, { cause: e });
    }
    const algorithm = nodeHashName(sig.hashAlgorithm);
    if (sig.hashTrailer === null || sig.hashPrefix === null || algorithm === null) continue;
    // the signed digest covers the region followed by the packet's hash trailer
    const signed = regionHash(algorithm).copy().update(sig.hashTrailer).digest("hex");
    if (signed.slice(0, 4) !== sig.hashPrefix) {
      throw new RpmFormatError(`${h.what}: ${label} does not match the header (damaged header or signature)`);
    }
  }
  for (const [tag, algorithm, label] of [
    [tags.SHA256HEADER, "sha256", "SHA256"],
    [tags.SHA1HEADER, "sha1", "SHA1"],
  ] as const) {
    const stored = h.string(tag);
    if (stored === null) continue;
    if (regionHash(algorithm).copy().digest("hex") !== stored.toLowerCase()) {
      throw new RpmFormatError(`${h.what}: header ${label} digest mismatch (damaged header)`);
    }
  }
}
