/**
 * Package files built by rpmbuild (some signed with RSA and EdDSA keys): lead, signature header and main
 * header, against `rpm -qp --qf` and against facts rpmbuild wrote into the file (the signature's
 * SHA256HEADER over the main header's bytes, its SIZE of header+payload, the payload's gzip magic).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RpmFormatError } from "../../src/errors.js";
import {
  formatPgpSignature,
  LEAD_SIZE,
  parsePgpSignature,
  parseRpmFile,
  type RpmFileMetadata,
  type RpmHeader,
  RpmType,
  signatureTags,
  verifyPackageHeaderDigests,
} from "../../src/rpm/index.js";
import { buildRpms, rpmQueryPackage, signRpms, testSigningKey } from "../helpers/rpmbuild.js";
import { packageSpecs } from "./generated.js";

let files: string[];

beforeAll(() => {
  const rpms = buildRpms({
    target: "x86_64",
    vendor: "AlmaLinux (test fixture)",
    packages: packageSpecs("x86_64"),
  });
  files = [
    ...signRpms(rpms.slice(0, 3), testSigningKey("rsa"), "sha256"),
    ...signRpms(rpms.slice(3, 4), testSigningKey("eddsa"), "sha512"),
    ...rpms.slice(4),
  ];
}, 600_000);

function parse(file: string): { bytes: Buffer; meta: RpmFileMetadata } {
  const bytes = readFileSync(file);
  const r = parseRpmFile(bytes);
  if (!r.complete) throw new Error(`${file}: incomplete`);
  return { bytes, meta: r.metadata };
}

/** Main-header tags (with rpm's names) rendered the way `rpm --qf '[%{TAG}\x1f]'` prints them. */
const MAIN_TAGS: [string, number][] = [
  ["NAME", 1000],
  ["VERSION", 1001],
  ["RELEASE", 1002],
  ["EPOCH", 1003],
  ["SUMMARY", 1004],
  ["DESCRIPTION", 1005],
  ["BUILDTIME", 1006],
  ["BUILDHOST", 1007],
  ["SIZE", 1009],
  ["VENDOR", 1011],
  ["LICENSE", 1014],
  ["GROUP", 1016],
  ["OS", 1021],
  ["ARCH", 1022],
  ["FILESIZES", 1028],
  ["FILERDEVS", 1033],
  ["FILEMODES", 1030],
  ["FILEMTIMES", 1034],
  ["FILEDIGESTS", 1035],
  ["FILEFLAGS", 1037],
  ["FILEUSERNAME", 1039],
  ["SOURCERPM", 1044],
  ["PROVIDENAME", 1047],
  ["REQUIREFLAGS", 1048],
  ["REQUIRENAME", 1049],
  ["RPMVERSION", 1064],
  ["CHANGELOGTIME", 1080],
  ["CHANGELOGNAME", 1081],
  ["FILEINODES", 1096],
  ["DIRINDEXES", 1116],
  ["BASENAMES", 1117],
  ["DIRNAMES", 1118],
  ["PAYLOADFORMAT", 1124],
  ["PAYLOADCOMPRESSOR", 1125],
  ["FILECOLORS", 1140],
  ["FILEDIGESTALGO", 5011],
  ["PAYLOADDIGEST", 5092],
  ["PAYLOADDIGESTALGO", 5093],
];

function render(h: RpmHeader, tag: number): string {
  const e = h.get(tag);
  if (!e) return "(none)";
  let values: (string | number)[];
  if (e.type === RpmType.STRING || e.type === RpmType.STRING_ARRAY || e.type === RpmType.I18NSTRING) {
    values = h.strings(tag)!;
  } else if (e.type === RpmType.BIN) values = [h.hex(tag)!];
  else values = h.numbers(tag)!;
  return values.join("\x1f");
}

describe("package files", () => {
  it("every tag we read equals rpm's rendering, for every package", async () => {
    const qf = `${MAIN_TAGS.map(([name]) => `%|${name}?{[%{${name}}\x1f]}:{(none)\x1f}|`).join("\x1e")}\n`;
    for (const file of files) {
      const { meta } = parse(file);
      const rpm = (await rpmQueryPackage(file, qf)).replace(/\n$/, "").split("\x1e");
      const ours = MAIN_TAGS.map(([, tag]) => `${render(meta.header, tag)}\x1f`);
      expect(ours, basename(file)).toEqual(rpm);
    }
  });

  it("signature header values equal rpm's, and the main header is exactly what SHA256HEADER digests", async () => {
    for (const file of files) {
      const { bytes, meta } = parse(file);
      const sig = meta.signature;
      const [size, md5, sha256, sha1, archive] = (
        await rpmQueryPackage(file, "%{SIGSIZE}|%{SIGMD5}|%{SHA256HEADER}|%{SHA1HEADER}|%{ARCHIVESIZE}")
      ).split("|");
      expect(String(sig.number(signatureTags.SIZE))).toBe(size);
      expect(sig.hex(signatureTags.MD5)).toBe(md5);
      expect(sig.string(signatureTags.SHA256HEADER)).toBe(sha256);
      expect(sig.string(signatureTags.SHA1HEADER)).toBe(sha1);
      expect(String(sig.number(signatureTags.PAYLOADSIZE))).toBe(archive);
      // Facts rpmbuild wrote: the digest binds the main header's exact byte range...
      const headerBytes = bytes.subarray(meta.headerOffset, meta.payloadOffset);
      expect(createHash("sha256").update(headerBytes).digest("hex")).toBe(sha256);
      // ...SIZE is header plus payload, and the payload is gzip.
      expect(meta.headerOffset + Number(size)).toBe(bytes.length);
      expect(bytes.subarray(meta.payloadOffset, meta.payloadOffset + 2).toString("hex")).toBe("1f8b");
      expect(meta.headerOffset % 8).toBe(0);
      verifyPackageHeaderDigests(meta);
    }
  });

  it("the lead: magic, version 3, binary, NEVR as rpm names it", async () => {
    for (const file of files) {
      const { meta } = parse(file);
      expect(meta.lead.major).toBe(3);
      expect(meta.lead.type).toBe(0);
      expect(meta.lead.name).toBe(await rpmQueryPackage(file, "%{NEVR}"));
    }
  });

  it("signatures read as rpm's pgpsig prints them (RSA/SHA256, EdDSA/SHA512)", async () => {
    const seen = new Set<string>();
    for (const file of files.slice(0, 4)) {
      const { meta } = parse(file);
      const rsa = meta.signature.binary(signatureTags.RSAHEADER);
      const dsa = meta.signature.binary(signatureTags.DSAHEADER);
      const tag = rsa ? "RSAHEADER" : "DSAHEADER";
      const ours = formatPgpSignature(parsePgpSignature((rsa ?? dsa)!));
      expect(ours).toBe(await rpmQueryPackage(file, `%{${tag}:pgpsig}`));
      seen.add(ours.split(",")[0]!);
    }
    expect([...seen].sort()).toEqual(["EdDSA/SHA512", "RSA/SHA256"]);
  });

  it("a short buffer says how many bytes it needs, for every prefix, and converges in a few rounds", () => {
    const { bytes, meta } = parse(files.find((f) => basename(f).startsWith("kernel-core-"))!);
    expect(meta.payloadOffset).toBeGreaterThan(16 * 1024);
    for (let n = 0; n < meta.payloadOffset; n++) {
      const r = parseRpmFile(bytes.subarray(0, n));
      expect(r.complete).toBe(false);
      if (!r.complete) expect(r.needed).toBeGreaterThan(n);
    }
    let need = 0;
    let rounds = 0;
    for (;;) {
      const r = parseRpmFile(bytes.subarray(0, need));
      if (r.complete) break;
      need = r.needed;
      rounds++;
    }
    expect(need).toBe(meta.payloadOffset);
    expect(rounds).toBe(3); // lead+signature intro, main header intro, whole header
    expect(parseRpmFile(bytes.subarray(0, meta.payloadOffset)).complete).toBe(true);
  });

  it("rejects what is not a package, and a damaged header", () => {
    const { bytes, meta } = parse(files[0]!);
    const html = Buffer.from("<!DOCTYPE html><html><body>404</body></html>");
    expect(() => parseRpmFile(html)).toThrow(/not an RPM package: .* not the lead magic edabeedb/);
    expect(() => parseRpmFile(Buffer.from("<"))).toThrow(RpmFormatError);
    const badVersion = Buffer.from(bytes);
    badVersion[4] = 9;
    expect(() => parseRpmFile(badVersion)).toThrow(/unsupported format version 9/);
    const badSigType = Buffer.from(bytes);
    badSigType.writeUInt16BE(1, 78);
    expect(() => parseRpmFile(badSigType)).toThrow(/signature type 1/);
    const badMagic = Buffer.from(bytes);
    badMagic[LEAD_SIZE + 1] = 0;
    expect(() => parseRpmFile(badMagic)).toThrow(/signature header: bad header magic/);
    // A changed byte inside the main header's data: structurally fine, caught by the digest.
    const damaged = Buffer.from(bytes);
    const dataStart = meta.payloadOffset - meta.header.data.length;
    const at = dataStart + meta.header.get(1000)!.offset;
    damaged[at] = damaged[at]! ^ 0x20; // NAME's first letter, other case
    expect(damaged).not.toEqual(bytes);
    const r = parseRpmFile(damaged);
    expect(r.complete).toBe(true);
    if (r.complete) expect(() => verifyPackageHeaderDigests(r.metadata)).toThrow(/SHA256 digest mismatch/);
  });
});
