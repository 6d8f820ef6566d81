/**
 * A package file's metadata: the 96-byte lead, the signature header (padded to 8 bytes) and the main
 * header, parsed from a buffer holding the file's first bytes. The payload is never needed. When the
 * buffer is too short the result says how many bytes to fetch, so a caller can read a file (or an HTTP
 * resource) incrementally.
 */
import { RpmFormatError } from "../errors.js";
import { regionDigest } from "./digest.js";
import { headerLength, introSize, parseHeader, type RpmHeader, signatureTags, tags } from "./header.js";

export const LEAD_SIZE = 96;
export const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
/** RPMSIGTYPE_HEADERSIG: the only signature type rpm reads. */
const SIGTYPE_HEADERSIG = 5;

export interface RpmLead {
  readonly major: number;
  readonly minor: number;
  /** 0 binary, 1 source. */
  readonly type: number;
  readonly archnum: number;
  /** The NEVR as written in the lead (up to 65 bytes; informational only). */
  readonly name: string;
  readonly osnum: number;
  readonly signatureType: number;
}

export interface RpmFileMetadata {
  readonly lead: RpmLead;
  readonly signature: RpmHeader;
  readonly header: RpmHeader;
  /** Offset of the main header in the file, and of the payload (= end of the main header). */
  readonly headerOffset: number;
  readonly payloadOffset: number;
}

export type RpmFileParse =
  | { readonly complete: true; readonly metadata: RpmFileMetadata }
  /** `needed` is the buffer length required to go further (more may be asked for after that). */
  | { readonly complete: false; readonly needed: number };

/** Parses the lead alone (the first 96 bytes). */
export function parseLead(buf: Buffer): RpmLead {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(LEAD_MAGIC)) {
    throw new RpmFormatError(
      `not an RPM package: the file starts with ${buf.subarray(0, 4).toString("hex") || "nothing"}, not the lead magic edabeedb`,
    );
  }
  if (buf.length < LEAD_SIZE)
    throw new RpmFormatError(`rpm lead: truncated (${buf.length} of ${LEAD_SIZE} bytes)`);
  const major = buf[4]!;
  if (major < 3 || major > 4)
    throw new RpmFormatError(`rpm lead: unsupported format version ${major} (3 or 4)`);
  const signatureType = buf.readUInt16BE(78);
  if (signatureType !== SIGTYPE_HEADERSIG) {
    throw new RpmFormatError(
      `rpm lead: signature type ${signatureType} (only ${SIGTYPE_HEADERSIG}, header-style, exists)`,
    );
  }
  const nameBytes = buf.subarray(10, 76);
  const nul = nameBytes.indexOf(0);
  return {
    major,
    minor: buf[5]!,
    type: buf.readUInt16BE(6),
    archnum: buf.readUInt16BE(8),
    name: nameBytes.toString("latin1", 0, nul < 0 ? nameBytes.length : nul),
    osnum: buf.readUInt16BE(76),
    signatureType,
  };
}

/** Parses as much as `buf` allows; throws RpmFormatError on anything that is not a valid package start. */
export function parseRpmFile(buf: Buffer): RpmFileParse {
  // The magic decides early whether this is an RPM at all, even from a few bytes.
  const have = buf.subarray(0, Math.min(4, buf.length));
  if (!have.equals(LEAD_MAGIC.subarray(0, have.length))) parseLead(buf);
  const sigStart = LEAD_SIZE;
  const sigIntro = sigStart + introSize(true);
  if (buf.length < sigIntro) return { complete: false, needed: sigIntro };
  const lead = parseLead(buf);

  const sigOptions = { magic: true, regionTag: tags.HEADERSIGNATURES, what: "signature header" } as const;
  const sigLength = headerLength(buf.subarray(sigStart), sigOptions);
  const headerOffset = sigStart + sigLength + ((8 - (sigLength % 8)) % 8);
  if (buf.length < headerOffset + introSize(true))
    return { complete: false, needed: headerOffset + introSize(true) };

  const mainOptions = {
    magic: true,
    regionTag: tags.HEADERIMMUTABLE,
    exactSize: true,
    what: "rpm header",
  } as const;
  const payloadOffset = headerOffset + headerLength(buf.subarray(headerOffset), mainOptions);
  if (buf.length < payloadOffset) return { complete: false, needed: payloadOffset };

  const signature = parseHeader(buf.subarray(sigStart, sigStart + sigLength), sigOptions);
  const header = parseHeader(buf.subarray(headerOffset, payloadOffset), mainOptions);
  return { complete: true, metadata: { lead, signature, header, headerOffset, payloadOffset } };
}

/**
 * Checks the main header against the signature header's SHA256HEADER and SHA1HEADER (each one present),
 * as rpm does before trusting a package's header; throws RpmFormatError on a mismatch.
 */
export function verifyPackageHeaderDigests(metadata: RpmFileMetadata): void {
  for (const [tag, algorithm, label] of [
    [signatureTags.SHA256HEADER, "sha256", "SHA256"],
    [signatureTags.SHA1HEADER, "sha1", "SHA1"],
  ] as const) {
    const stored = metadata.signature.string(tag);
    if (stored === null) continue;
    if (regionDigest(metadata.header, algorithm) !== stored.toLowerCase()) {
      throw new RpmFormatError(`rpm header: ${label} digest mismatch (damaged package)`);
    }
  }
}
