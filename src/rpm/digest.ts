/**
 * Header digests: SHA256HEADER (and the older SHA1HEADER) hold the digest of the immutable region as a
 * package file stores it (magic, region entry and data counts, region index, region data). rpm checks
 * them on every database read; a mismatch means the header was damaged.
 */
import { createHash } from "node:crypto";
import { RpmFormatError } from "../errors.js";
import { HEADER_MAGIC, type RpmHeader, tags } from "./header.js";

/** Digest of the header's immutable region; null for a header without a region. */
export function regionDigest(h: RpmHeader, algorithm: "sha256" | "sha1"): string | null {
  if (h.regionTag === null) return null;
  const counts = Buffer.alloc(8);
  counts.writeUInt32BE(h.regionEntries, 0);
  counts.writeUInt32BE(h.regionDataLength, 4);
  return createHash(algorithm)
    .update(HEADER_MAGIC)
    .update(counts)
    .update(h.index.subarray(0, 16 * h.regionEntries))
    .update(h.data.subarray(0, h.regionDataLength))
    .digest("hex");
}

/**
 * Checks SHA256HEADER and SHA1HEADER (each one present) against the region, as rpm does on every database
 * read; throws RpmFormatError on a mismatch. A header with neither, or without a region, passes.
 */
export function verifyHeaderDigest(h: RpmHeader): void {
  for (const [tag, algorithm, label] of [
    [tags.SHA256HEADER, "sha256", "SHA256"],
    [tags.SHA1HEADER, "sha1", "SHA1"],
  ] as const) {
    const stored = h.string(tag);
    if (stored === null) continue;
    const actual = regionDigest(h, algorithm);
    if (actual === null) return;
    if (actual !== stored.toLowerCase()) {
      throw new RpmFormatError(`${h.what}: header ${label} digest mismatch (damaged header)`);
    }
  }
}
