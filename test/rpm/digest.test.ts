/**
 * Header digests on real installed headers (CBL-Mariner's rpmdb.sqlite: RSA/SHA-256 header signatures
 * and SHA256HEADER, which share one hash of the region): each check is shown passing on the intact
 * header and failing on a header damaged where only that check can see it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import { parseHeader, readSqlitePackages, tags, verifyHeaderDigest } from "../../src/rpm/index.js";

const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
const blobs = readSqlitePackages(readFileSync(`${DATA}/sqlite-cbl-mariner-2.0/rpmdb.sqlite`)).map(
  (r) => r.blob,
);
const parse = (blob: Buffer) => parseHeader(blob, { magic: false, what: "record" });

/** A copy of `blob` with the byte at `at` of tag `tag`'s value flipped. */
function damaged(blob: Buffer, tag: number, at: number): Buffer {
  const copy = Buffer.from(blob);
  const il = copy.readUInt32BE(0);
  const entry = parse(copy).get(tag)!;
  copy[8 + 16 * il + entry.offset + at]! ^= 0xff;
  return copy;
}

describe("verifyHeaderDigest on real headers", () => {
  it("passes every intact header", () => {
    expect(blobs.length).toBeGreaterThan(100);
    for (const blob of blobs) verifyHeaderDigest(parse(blob));
  });

  it("fails a header whose RSA signature's stored digest prefix was changed (outside the region)", () => {
    const h = parse(blobs[0]!);
    const sig = h.pgpSignature(tags.RSAHEADER)!;
    expect(sig.hashAlgorithm).toBe(8); // SHA-256, as SHA256HEADER
    const packet = h.view(tags.RSAHEADER)!;
    // v4 packet: ... the 2-byte digest prefix, then the signature MPI (bit count and 256 bytes for RSA 2048)
    const prefixAt = packet.length - 2 - 256 - 2;
    expect(packet.toString("hex", prefixAt, prefixAt + 2)).toBe(sig.hashPrefix);
    const bad = parse(damaged(blobs[0]!, tags.RSAHEADER, prefixAt));
    expect(bad.string(tags.SHA256HEADER)).toBe(h.string(tags.SHA256HEADER));
    expect(() => verifyHeaderDigest(bad)).toThrow(/RSAHEADER does not match the header/);
  });

  it("fails a header whose SHA256HEADER no longer matches the region", () => {
    const bad = parse(damaged(blobs[0]!, tags.SHA256HEADER, 0));
    expect(() => verifyHeaderDigest(bad)).toThrow(RpmFormatError);
    expect(() => verifyHeaderDigest(bad)).toThrow(/header SHA256 digest mismatch/);
  });

  it("fails a header whose SHA1HEADER no longer matches the region", () => {
    const bad = parse(damaged(blobs[0]!, tags.SHA1HEADER, 0));
    expect(() => verifyHeaderDigest(bad)).toThrow(/header SHA1 digest mismatch/);
  });
});
