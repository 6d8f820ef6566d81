/** One installed package as the rpm database records it, taken from its header. */
import { RpmFormatError } from "../errors.js";
import { type RpmHeader, RpmType, tags } from "./header.js";
import { formatPgpSignature, type PgpSignatureInfo, parsePgpSignature } from "./pgp.js";

export interface PackageSignature extends PgpSignatureInfo {
  /** The header tag it came from. */
  readonly tag: "RSAHEADER" | "DSAHEADER" | "SIGPGP" | "SIGGPG" | "OPENPGP";
  /** rpm's `pgpsig` rendering, e.g. "RSA/SHA256, Mon Apr  3 18:10:39 2023, Key ID 199e2f91fd431d51" (UTC). */
  readonly text: string;
}

export interface InstalledPackage {
  readonly name: string;
  readonly epoch: number | null;
  readonly version: string;
  readonly release: string;
  /** Null for gpg-pubkey pseudo-packages. */
  readonly arch: string | null;
  readonly license: string;
  readonly sourceRpm: string | null;
  /** Installed size in bytes: LONGSIZE if present, else SIZE. */
  readonly size: number;
  /** Unix seconds. */
  readonly installTime: number | null;
  readonly vendor: string | null;
  readonly summary: string;
  /** Header+payload MD5 (SIGMD5), lowercase hex. */
  readonly sigmd5: string | null;
  /** SHA-256 of the immutable header (SHA256HEADER), lowercase hex. */
  readonly sha256header: string | null;
  /** SHA-1 of the immutable header (SHA1HEADER), lowercase hex. */
  readonly sha1header: string | null;
  /** Payload digest(s) (PAYLOADDIGEST), hex. */
  readonly payloadDigest: string | null;
  /** The header signature: RSAHEADER, else DSAHEADER, else the header+payload SIGPGP/SIGGPG, else OPENPGP. */
  readonly signature: PackageSignature | null;
}

const SIGNATURE_TAGS = [
  ["RSAHEADER", tags.RSAHEADER],
  ["DSAHEADER", tags.DSAHEADER],
  ["SIGPGP", tags.SIGPGP],
  ["SIGGPG", tags.SIGGPG],
  ["OPENPGP", tags.OPENPGP],
] as const;

/** Reads the package fields from an installed (or package-file main) header. */
export function packageFromHeader(h: RpmHeader): InstalledPackage {
  const name = h.string(tags.NAME);
  const version = h.string(tags.VERSION);
  const release = h.string(tags.RELEASE);
  if (name === null || version === null || release === null) {
    throw new RpmFormatError("rpm header: NAME, VERSION or RELEASE is missing");
  }
  return {
    name,
    epoch: h.number(tags.EPOCH),
    version,
    release,
    arch: h.string(tags.ARCH),
    license: h.string(tags.LICENSE) ?? "",
    sourceRpm: h.string(tags.SOURCERPM),
    size: h.number(tags.LONGSIZE) ?? h.number(tags.SIZE) ?? 0,
    installTime: h.number(tags.INSTALLTIME),
    vendor: h.string(tags.VENDOR),
    summary: h.string(tags.SUMMARY) ?? "",
    sigmd5: h.hex(tags.SIGMD5),
    sha256header: h.string(tags.SHA256HEADER),
    sha1header: h.string(tags.SHA1HEADER),
    payloadDigest: h.strings(tags.PAYLOADDIGEST)?.join(" ") ?? null,
    signature: headerSignature(h),
  };
}

function headerSignature(h: RpmHeader): PackageSignature | null {
  for (const [label, tag] of SIGNATURE_TAGS) {
    const e = h.get(tag);
    if (!e) continue;
    // OPENPGP (rpm 6) holds base64 packets as strings; the others hold the packet itself.
    const info =
      e.type === RpmType.BIN
        ? h.pgpSignature(tag)!
        : parsePgpSignature(Buffer.from(h.strings(tag)![0]!, "base64"));
    // Spelled out (not spread): the same fields in the same order, without a cold object clone per package.
    return {
      version: info.version,
      pubkeyAlgorithm: info.pubkeyAlgorithm,
      pubkeyAlgorithmName: info.pubkeyAlgorithmName,
      hashAlgorithm: info.hashAlgorithm,
      hashAlgorithmName: info.hashAlgorithmName,
      created: info.created,
      keyId: info.keyId,
      hashTrailer: info.hashTrailer,
      hashPrefix: info.hashPrefix,
      tag: label,
      text: formatPgpSignature(info),
    };
  }
  return null;
}

/** rpm's NEVRA: `name-[epoch:]version-release.arch` (no `.arch` when there is none, as for gpg-pubkey). */
export function nevra(
  pkg: Pick<InstalledPackage, "name" | "epoch" | "version" | "release" | "arch">,
): string {
  const e = pkg.epoch === null ? "" : `${pkg.epoch}:`;
  return `${pkg.name}-${e}${pkg.version}-${pkg.release}${pkg.arch === null ? "" : `.${pkg.arch}`}`;
}

/** Code units that may order differently in UTF-16 than in UTF-8: surrogates and what follows them. */
const UTF16_ORDER_DIFFERS = /[\uD800-\uFFFF]/;

/** Byte-wise comparison of UTF-8 strings, as `sort` orders lines in the C locale. */
export function compareC(a: string, b: string): number {
  // Below U+D800, UTF-16 code-unit order is code-point order, which is UTF-8 byte order.
  if (!UTF16_ORDER_DIFFERS.test(a) && !UTF16_ORDER_DIFFERS.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
