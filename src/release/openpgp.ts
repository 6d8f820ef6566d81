/**
 * OpenPGP for CHECKSUM files: a detached, ASCII-armored binary signature (what `gpg --detach-sign
 * --armor` writes and `gpgv`/`gpg --verify` check), made with the `openpgp` library.
 *
 * Key material is a secret: no message here ever contains the key, the passphrase, or the library's
 * own error text (which may quote what it failed to parse).
 */
import { SigningKeyError, UsageError, VerificationFailedError } from "../errors.js";

type OpenPgp = typeof import("openpgp");
let loaded: Promise<OpenPgp> | undefined;
/** The library is loaded on first use, so commands that sign nothing do not pay for it. */
function openpgp(): Promise<OpenPgp> {
  loaded ??= import("openpgp");
  return loaded;
}

/** An unlocked private key, ready to sign. */
export interface SigningKey {
  /** Upper-case hex fingerprint of the primary key. */
  readonly fingerprint: string;
  readonly userIds: readonly string[];
  /** The decrypted key object (opaque to callers). */
  readonly key: unknown;
}

export interface SigningKeySource {
  /** ASCII-armored private key. */
  readonly armoredKey: string;
  readonly passphrase?: string | undefined;
  /** Where the key came from, for messages (an environment variable's name, a file). */
  readonly keyFrom: string;
  readonly passphraseFrom: string;
}

/** Reads and unlocks the private key; every problem is a one-line SigningKeyError (exit 2). */
export async function loadSigningKey(source: SigningKeySource): Promise<SigningKey> {
  const pgp = await openpgp();
  const { keyFrom, passphraseFrom } = source;
  const text = source.armoredKey.trim();
  if (!text.includes("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
    throw new SigningKeyError(
      text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        ? `${keyFrom} holds a public key: signing needs the ASCII-armored private key (gpg --armor --export-secret-keys KEYID)`
        : `${keyFrom} is not an ASCII-armored OpenPGP private key (expected -----BEGIN PGP PRIVATE KEY BLOCK-----)`,
    );
  }
  let key: Awaited<ReturnType<OpenPgp["readPrivateKey"]>>;
  try {
    key = await pgp.readPrivateKey({ armoredKey: text });
  } catch {
    throw new SigningKeyError(
      `${keyFrom} is not a readable OpenPGP private key (damaged or truncated armor)`,
    );
  }
  const fingerprint = key.getFingerprint().toUpperCase();
  if (!key.isDecrypted()) {
    if (!source.passphrase) {
      throw new SigningKeyError(
        `the key in ${keyFrom} (${fingerprint}) is protected by a passphrase: set ${passphraseFrom}`,
      );
    }
    try {
      key = await pgp.decryptKey({ privateKey: key, passphrase: source.passphrase });
    } catch {
      throw new SigningKeyError(`${passphraseFrom} does not unlock the key in ${keyFrom} (${fingerprint})`);
    }
  }
  try {
    await key.getSigningKey();
  } catch {
    throw new SigningKeyError(
      `the key in ${keyFrom} (${fingerprint}) cannot sign (expired, revoked, or without a signing key)`,
    );
  }
  return { fingerprint, userIds: key.getUserIDs(), key };
}

/** The ASCII-armored public key of an unlocked signing key (what verifiers import). */
export function publicKeyOf(signer: SigningKey): string {
  return (signer.key as Awaited<ReturnType<OpenPgp["readPrivateKey"]>>).toPublic().armor();
}

/** A detached, ASCII-armored signature over the exact bytes of `data`. */
export async function signDetached(data: Uint8Array, signer: SigningKey): Promise<string> {
  const pgp = await openpgp();
  const message = await pgp.createMessage({ binary: data });
  return pgp.sign({
    message,
    signingKeys: signer.key as Awaited<ReturnType<OpenPgp["readPrivateKey"]>>,
    detached: true,
    format: "armored",
  });
}

/** Public keys to verify with: ASCII-armored or binary (`gpg --export`), one or several. */
export interface VerificationKeys {
  readonly keys: readonly unknown[];
  readonly fingerprints: readonly string[];
}

export async function readVerificationKeys(data: Uint8Array, from: string): Promise<VerificationKeys> {
  const pgp = await openpgp();
  const text = Buffer.from(data).toString("latin1");
  let keys: Awaited<ReturnType<OpenPgp["readKeys"]>>;
  try {
    keys = text.includes("-----BEGIN PGP")
      ? await pgp.readKeys({ armoredKeys: text })
      : await pgp.readKeys({ binaryKeys: data });
  } catch {
    throw new UsageError(
      `${from} is not an OpenPGP public key (give the ASCII-armored or binary export of the signing key)`,
    );
  }
  return { keys, fingerprints: keys.map((k) => k.getFingerprint().toUpperCase()) };
}

export interface SignatureCheck {
  /** Fingerprint of the key (among those given) that made the signature. */
  readonly fingerprint: string;
  readonly keyId: string;
  readonly created?: string | undefined;
}

/**
 * Checks a detached signature over `data` against the given keys. Throws VerificationFailedError
 * naming what differs: not a signature, made by another key, or not over these bytes.
 */
export async function verifyDetached(
  data: Uint8Array,
  armoredSignature: string,
  keys: VerificationKeys,
  names: { data: string; signature: string },
): Promise<SignatureCheck> {
  const pgp = await openpgp();
  let signature: Awaited<ReturnType<OpenPgp["readSignature"]>>;
  try {
    signature = await pgp.readSignature({ armoredSignature });
  } catch {
    throw new VerificationFailedError(`${names.signature} is not an ASCII-armored OpenPGP signature`);
  }
  const verificationKeys = keys.keys as Awaited<ReturnType<OpenPgp["readKeys"]>>;
  const signerIds = signature.getSigningKeyIDs().map((id) => id.toHex().toUpperCase());
  // Which given key (primary or subkey) issued the signature.
  const issuer = verificationKeys.find((k) =>
    k.getKeyIDs().some((id) => signerIds.includes(id.toHex().toUpperCase())),
  );
  if (!issuer) {
    throw new VerificationFailedError(
      `${names.signature} was made by key ${signerIds.join(", ") || "(no issuer)"}, not by the given key (${keys.fingerprints.join(", ")})`,
    );
  }
  const message = await pgp.createMessage({ binary: data });
  const result = await pgp.verify({ message, signature, verificationKeys, format: "binary" });
  const first = result.signatures[0];
  try {
    if (!first) throw new Error("no signature");
    await first.verified;
  } catch {
    throw new VerificationFailedError(
      `${names.signature} does not match ${names.data} (${names.data} changed after it was signed, or the signature is damaged)`,
    );
  }
  const packet = (await first.signature).packets[0];
  return {
    fingerprint: issuer.getFingerprint().toUpperCase(),
    keyId: first.keyID.toHex().toUpperCase(),
    created: packet?.created ? packet.created.toISOString() : undefined,
  };
}

export interface GeneratedKeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly fingerprint: string;
}

/** A new unprotected Ed25519 signing key (OpenPGP v4, which gpg 2.2 reads), e.g. a demo's throwaway key. */
export async function generateSigningKey(name: string, email: string): Promise<GeneratedKeyPair> {
  const pgp = await openpgp();
  const { privateKey, publicKey } = await pgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name, email }],
    format: "armored",
  });
  const key = await pgp.readKey({ armoredKey: publicKey });
  return { privateKey, publicKey, fingerprint: key.getFingerprint().toUpperCase() };
}
