/**
 * Signs built RPMs as AlmaLinux's are signed: RSA-4096 OpenPGP v4 signatures (SHA-256) over the header
 * (RSAHEADER) and over header + payload (the v3-style PGP tag), put into each package's signature header
 * the way `rpmsign --addsign` does it (the signature header is rewritten, its reserved space shrinks by
 * what the signatures take). rpm copies both into the installed header (RSAHEADER, SIGPGP).
 *
 * Written here rather than run through rpmsign + gpg: gpg costs ~0.1 s per package, this ~15 ms.
 * The key is made with node:crypto once per checkout (.cache/imagegen-signing-key.pem, beside the
 * image cache) and is test data, nothing more. `publicKeyArmor` gives its OpenPGP public key (with a self-signed user ID), so rpm can
 * import it and check the signatures (`rpmkeys --checksig`).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { EnvironmentError } from "../src/errors.js";
import { parseRpmFile } from "../src/rpm/rpmfile.js";

const signAsync = promisify(sign);

export const SIGNING_USER_ID = "AlmaLinux imagegen signing key <imagegen@almalinux.test>";
/** The key's creation time (a fixed date: the fingerprint then depends only on the key material). */
const KEY_CREATED = 1704067200;

/** Signature-header tags (rpm's RPMSIGTAG_*). */
const SIG = { REGION: 62, RSA: 268, PGP: 1002, RESERVEDSPACE: 1008 } as const;
const BIN = 7;
const TYPE_ALIGN: Record<number, number> = { 3: 2, 4: 4, 5: 8 };
const LEAD_SIZE = 96;
const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

export interface SigningKey {
  readonly privateKey: KeyObject;
  /** The OpenPGP v4 public-key packet body (version, time, algorithm, n, e). */
  readonly publicPacket: Buffer;
  readonly fingerprint: Buffer;
  readonly keyId: Buffer;
}

function mpi(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  const bits = (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
  const out = Buffer.alloc(2 + v.length);
  out.writeUInt16BE(bits, 0);
  v.copy(out, 2);
  return out;
}

/** An old-format OpenPGP packet with a two-byte length. */
function packet(tag: number, body: Buffer): Buffer {
  const head = Buffer.from([0x80 | (tag << 2) | 1, 0, 0]);
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function keyFrom(privateKey: KeyObject): SigningKey {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const n = Buffer.from(jwk.n!, "base64url");
  const e = Buffer.from(jwk.e!, "base64url");
  const publicPacket = Buffer.concat([Buffer.from([4]), u32(KEY_CREATED), Buffer.from([1]), mpi(n), mpi(e)]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(publicPacket.length, 0);
  const fingerprint = createHash("sha1")
    .update(Buffer.from([0x99]))
    .update(len)
    .update(publicPacket)
    .digest();
  return { privateKey, publicPacket, fingerprint, keyId: fingerprint.subarray(12) };
}

const KEY_DIR = fileURLToPath(new URL("../.cache/", import.meta.url));

/**
 * The signing key: read from `dir`/imagegen-signing-key.pem, or made (RSA-4096, a few seconds) and
 * stored there first. Concurrent builders may each make one; the last rename wins, both are valid.
 */
export function signingKey(dir = KEY_DIR): SigningKey {
  const file = join(dir, "imagegen-signing-key.pem");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    renameSync(tmp, file);
  }
  return keyFrom(createPrivateKey(readFileSync(file)));
}

/** A v4 signature packet of `sigType` over `data` (chunks hashed in order). */
async function signaturePacket(
  key: SigningKey,
  sigType: number,
  data: readonly Buffer[],
  created: number,
): Promise<Buffer> {
  const hashed = Buffer.concat([
    Buffer.from([5, 2]),
    u32(created),
    Buffer.from([22, 33, 4]),
    key.fingerprint,
  ]);
  const hashedLen = Buffer.alloc(2);
  hashedLen.writeUInt16BE(hashed.length, 0);
  const head = Buffer.concat([Buffer.from([4, sigType, 1, 8]), hashedLen, hashed]);
  const trailer = Buffer.concat([head, Buffer.from([4, 0xff]), u32(head.length)]);
  const digest = createHash("sha256");
  for (const d of data) digest.update(d);
  const prefix = digest.update(trailer).digest().subarray(0, 2);
  const signature = await signAsync("sha256", Buffer.concat([...data, trailer]), key.privateKey);
  const unhashed = Buffer.concat([Buffer.from([0, 10, 9, 16]), key.keyId]);
  return packet(2, Buffer.concat([head, unhashed, prefix, mpi(signature)]));
}

interface SigEntry {
  tag: number;
  type: number;
  count: number;
  value: Buffer;
}

/** A signature header (magic included) holding `entries` in tag order inside one region. */
function writeSignatureHeader(entries: readonly SigEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const il = sorted.length + 1;
  const index = Buffer.alloc(16 * il);
  const chunks: Buffer[] = [];
  let dl = 0;
  sorted.forEach((e, i) => {
    const align = TYPE_ALIGN[e.type] ?? 1;
    const pad = (align - (dl % align)) % align;
    if (pad) chunks.push(Buffer.alloc(pad));
    dl += pad;
    const at = 16 * (i + 1);
    index.writeUInt32BE(e.tag, at);
    index.writeUInt32BE(e.type, at + 4);
    index.writeUInt32BE(dl, at + 8);
    index.writeUInt32BE(e.count, at + 12);
    chunks.push(e.value);
    dl += e.value.length;
  });
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32BE(SIG.REGION, 0);
  trailer.writeUInt32BE(BIN, 4);
  trailer.writeInt32BE(-16 * il, 8);
  trailer.writeUInt32BE(16, 12);
  index.writeUInt32BE(SIG.REGION, 0);
  index.writeUInt32BE(BIN, 4);
  index.writeUInt32BE(dl, 8);
  index.writeUInt32BE(16, 12);
  chunks.push(trailer);
  dl += 16;
  const intro = Buffer.concat([HEADER_MAGIC, u32(il), u32(dl)]);
  return Buffer.concat([intro, index, ...chunks]);
}

/** Signs one package file in place. */
async function signFile(file: string, key: SigningKey, created: number): Promise<void> {
  const buf = await readFile(file);
  const parsed = parseRpmFile(buf);
  if (!parsed.complete) throw new EnvironmentError(`imagegen: ${file} is not a whole RPM package`);
  const { signature, headerOffset } = parsed.metadata;
  const main = buf.subarray(headerOffset);
  const rsa = await signaturePacket(
    key,
    0,
    [buf.subarray(headerOffset, parsed.metadata.payloadOffset)],
    created,
  );
  const pgp = await signaturePacket(key, 0, [main], created);
  const entries: SigEntry[] = [];
  let reserved = 0;
  for (const e of signature.entries.values()) {
    if (e.tag === SIG.RSA || e.tag === SIG.PGP) continue;
    const value = Buffer.from(signature.data.subarray(e.offset, e.offset + e.length));
    if (e.tag === SIG.RESERVEDSPACE) reserved = value.length;
    else entries.push({ tag: e.tag, type: e.type, count: e.count, value });
  }
  // rpmsign takes the signatures' room from the reserved space, keeping the header's size.
  const left = reserved - rsa.length - pgp.length - 8;
  if (left > 0) entries.push({ tag: SIG.RESERVEDSPACE, type: BIN, count: left, value: Buffer.alloc(left) });
  entries.push({ tag: SIG.RSA, type: BIN, count: rsa.length, value: rsa });
  entries.push({ tag: SIG.PGP, type: BIN, count: pgp.length, value: pgp });
  const header = writeSignatureHeader(entries);
  const pad = Buffer.alloc((8 - (header.length % 8)) % 8);
  await writeFile(file, Buffer.concat([buf.subarray(0, LEAD_SIZE), header, pad, main]));
}

/** Signs every package (in place) with `key` (default: the checkout's), `created` in Unix seconds. */
export async function signRpms(
  rpms: readonly string[],
  created: number,
  key: SigningKey = signingKey(),
): Promise<void> {
  // node:crypto signs on libuv's thread pool: a few packages at a time keep every core busy.
  const queue = [...rpms];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) await signFile(f, key, created);
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

function armor(data: Buffer): string {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  const sum = Buffer.from([(crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff]).toString("base64");
  const lines = data.toString("base64").match(/.{1,64}/g) ?? [];
  return [
    "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    "",
    ...lines,
    `=${sum}`,
    "-----END PGP PUBLIC KEY BLOCK-----",
    "",
  ].join("\n");
}

/** The key's OpenPGP public key (key packet, user ID, positive self-certification), ASCII-armoured. */
export async function publicKeyArmor(key: SigningKey): Promise<string> {
  const keyPacket = packet(6, key.publicPacket);
  const uid = Buffer.from(SIGNING_USER_ID);
  const uidPacket = packet(13, uid);
  const keyLen = Buffer.alloc(2);
  keyLen.writeUInt16BE(key.publicPacket.length, 0);
  const certified = [
    Buffer.from([0x99]),
    keyLen,
    key.publicPacket,
    Buffer.from([0xb4]),
    u32(uid.length),
    uid,
  ];
  const cert = await signaturePacket(key, 0x13, certified, KEY_CREATED);
  return armor(Buffer.concat([keyPacket, uidPacket, cert]));
}
