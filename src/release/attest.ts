/**
 * Signing in-toto Statements as DSSE envelopes inside Sigstore bundles (v0.3), two ways:
 * - with a local ECDSA P-256 key (PEM), anywhere: the bundle names the key by a hint (the SHA-256 of
 *   its public key) and carries no transparency-log entry, so it verifies offline against that key;
 * - keyless: an OIDC token (GitHub Actions' id-token) → a short-lived Fulcio certificate, the
 *   signature logged in Rekor.
 * Secrets (the private key) never reach a message.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { SigningKeyError } from "../errors.js";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const PUBLIC_GOOD_FULCIO_URL = "https://fulcio.sigstore.dev";
export const PUBLIC_GOOD_REKOR_URL = "https://rekor.sigstore.dev";

/** A bundle in its JSON form (what `IMAGE.sigstore.json` holds). */
export type SerializedBundle = Record<string, unknown>;

export interface KeyAttester {
  readonly kind: "key";
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  /** Hex SHA-256 of the DER public key: the bundle's key hint. */
  readonly hint: string;
}

export interface KeylessAttester {
  readonly kind: "keyless";
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  /** Supplies the OIDC token (oidcTokenFrom); default: sigstore's own lookup in this process's environment. */
  readonly getToken?: (() => Promise<string>) | undefined;
}

export type Attester = KeyAttester | KeylessAttester;

/** The hint a bundle signed with this key carries. */
export function keyHint(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ format: "der", type: "spki" }))
    .digest("hex");
}

function requireP256(key: KeyObject, from: string, error: (m: string) => Error): void {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    const kind =
      key.asymmetricKeyType === "ec"
        ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}`
        : `a ${key.asymmetricKeyType} key`;
    throw error(`${from} holds ${kind}; attestations need an ECDSA P-256 key`);
  }
}

/** Reads an ECDSA P-256 private key in PEM (PKCS#8 or SEC1); any problem is a SigningKeyError. */
export function loadAttestationKey(pem: string, from: string): KeyAttester {
  if (!pem.includes("-----BEGIN") || !pem.includes("PRIVATE KEY-----")) {
    throw new SigningKeyError(
      pem.includes("PUBLIC KEY-----")
        ? `${from} holds a public key: attesting needs the PEM private key`
        : `${from} is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: "pem" });
  } catch (e) {
    const encrypted =
      /ENCRYPTED|passphrase/i.test(pem) || (e as { code?: string }).code === "ERR_MISSING_PASSPHRASE";
    throw new SigningKeyError(
      encrypted
        ? `${from} is an encrypted PEM key: give it unencrypted (openssl pkey -in KEY -out PLAIN)`
        : `${from} is not a readable PEM private key (damaged or truncated)`,
    );
  }
  requireP256(privateKey, from, (m) => new SigningKeyError(m));
  const publicKey = createPublicKey(privateKey);
  return {
    kind: "key",
    privateKey,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    hint: keyHint(publicKey),
  };
}

/** A public key given to verify with (PEM; a private key PEM works too, its public half is used). */
export function loadAttestationPublicKey(
  pem: string,
  from: string,
  error: (m: string) => Error,
): { publicKey: KeyObject; hint: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch {
    throw error(`${from} is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)`);
  }
  requireP256(key, from, error);
  return { publicKey: key, hint: keyHint(key) };
}

/** Signs one in-toto Statement; returns the bundle's JSON. */
export async function attest(statement: unknown, attester: Attester): Promise<SerializedBundle> {
  const payload = Buffer.from(JSON.stringify(statement));
  if (attester.kind === "key") {
    const [{ DSSEBundleBuilder }, { bundleToJSON }] = await Promise.all([
      import("@sigstore/sign"),
      import("@sigstore/bundle"),
    ]);
    const signer = {
      sign: async (data: Buffer) => ({
        signature: sign("sha256", data, attester.privateKey),
        key: { $case: "publicKey" as const, publicKey: attester.publicKeyPem, hint: attester.hint },
      }),
    };
    const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
      data: payload,
      type: IN_TOTO_PAYLOAD_TYPE,
    });
    return bundleToJSON(bundle) as unknown as SerializedBundle;
  }
  const sigstore = await import("sigstore");
  const bundle = await sigstore.attest(payload, IN_TOTO_PAYLOAD_TYPE, {
    fulcioURL: attester.fulcioUrl,
    rekorURL: attester.rekorUrl,
    ...(attester.getToken ? { identityProvider: { getToken: attester.getToken } } : {}),
  });
  return bundle as unknown as SerializedBundle;
}

/**
 * The OIDC token keyless signing presents to Fulcio, from `env` (not necessarily this process's):
 * SIGSTORE_ID_TOKEN as given, else GitHub Actions' token for the audience `sigstore`.
 */
export function oidcTokenFrom(env: NodeJS.ProcessEnv): () => Promise<string> {
  return async () => {
    if (env.SIGSTORE_ID_TOKEN) return env.SIGSTORE_ID_TOKEN;
    const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!requestUrl || !requestToken)
      throw new Error("no OIDC token: not in GitHub Actions with id-token: write");
    const url = new URL(requestUrl);
    url.searchParams.set("audience", "sigstore");
    const response = await fetch(url, {
      headers: { Accept: "application/json", Authorization: `Bearer ${requestToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`the OIDC token request failed: HTTP ${response.status}`);
    const value = ((await response.json()) as { value?: unknown }).value;
    if (typeof value !== "string" || value === "") throw new Error("the OIDC token response holds no token");
    return value;
  };
}

/** True when keyless signing can get an OIDC token here (GitHub Actions with `id-token: write`). */
export function keylessAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) || env.SIGSTORE_ID_TOKEN,
  );
}
