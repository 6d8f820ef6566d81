/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { createHash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";
import { nodeHashName, parsePgpSignature } from "./pgp.js";

/** The immutable region as a package file stores it: what header digests and signatures cover. */
function regionBytes(h: RpmHeader): Buffer[] {
  const counts = Buffer.alloc(8);
  counts.writeUInt32BE(h.regionEntries, 0);
  counts.writeUInt32BE(h.regionDataLength, 4);
  return [
    HEADER_MAGIC,
    counts,
    h.index.subarray(0, 16 * h.regionEntries),
    h.data.subarray(0, h.regionDataLength),
  ];
}

/** Digest of the header's immutable region; null for a header without a region. */
export function regionDigest(h: RpmHeader, algorithm: "sha256" | "sha1"): string | null {
  if (h.regionTag === null) return null;
  const hash = createHash(algorithm);
  for (const part of regionBytes(h)) hash.update(part);
  return hash.digest("hex");
}

/**
 * Checks what rpm checks on every database read without needing keys: SHA256HEADER and SHA1HEADER
 * against the region, and for the header signatures (RSAHEADER, DSAHEADER) that the packet parses and
 * that the digest it signs starts with the two bytes the packet stores. Throws RpmFormatError on a
 * mismatch. A header with none of these, or without a region, passes.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  if (h.regionTag === null) return;
  for (const [tag, label] of [
    [tags.RSAHEADER, "RSAHEADER"],
    [tags.DSAHEADER, "DSAHEADER"],
  ] as const) {
    const pkt = h.binary(tag);
    if (pkt === null) continue;
    let sig: ReturnType<typeof parsePgpSignature>;
    try {
      sig = parsePgpSignature(pkt);
    } catch (e) {
      throw new RpmFormatError(`${h.what}: ${label}: ${(e as Error).message}`, { cause: e });
    }
    const algorithm = nodeHashName(sig.hashAlgorithm);
    if (sig.hashTrailer === null || sig.hashPrefix === null || algorithm === null) continue;
    const hash = createHash(algorithm);
    for (const part of regionBytes(h)) hash.update(part);
    if (hash.update(sig.hashTrailer).digest("hex").slice(0, 4) !== sig.hashPrefix) {
      throw new RpmFormatError(`${h.what}: ${label} does not match the header (damaged header or signature)`);
    }
  }
  for (const [tag, algorithm, label] of [
    [tags.SHA256HEADER, "sha256", "SHA256"],
    [tags.SHA1HEADER, "sha1", "SHA1"],
  ] as const) {
    const stored = h.string(tag);
    if (stored === null) continue;
    if (regionDigest(h, algorithm) !== stored.toLowerCase()) {
      throw new RpmFormatError(`${h.what}: header ${label} digest mismatch (damaged header)`);
    }
  }
}
