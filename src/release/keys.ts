/**
 * The release's keys, from the environment only (never from arguments, which end up in shell history
 * and process listings): CLOUD_IMAGES_SIGNING_KEY (+ CLOUD_IMAGES_SIGNING_PASSPHRASE) for CHECKSUM.asc,
 * CLOUD_IMAGES_ATTESTATION_KEY for the Sigstore bundles, or keyless signing in GitHub Actions.
 */
import { UsageError } from "../errors.js";
import {
  type Attester,
  keylessAvailable,
  loadAttestationKey,
  oidcTokenFrom,
  PUBLIC_GOOD_FULCIO_URL,
  PUBLIC_GOOD_REKOR_URL,
} from "./attest.js";
import { loadSigningKey, type SigningKey } from "./openpgp.js";

export const SIGNING_KEY_ENV = "CLOUD_IMAGES_SIGNING_KEY";
export const SIGNING_PASSPHRASE_ENV = "CLOUD_IMAGES_SIGNING_PASSPHRASE";
export const ATTESTATION_KEY_ENV = "CLOUD_IMAGES_ATTESTATION_KEY";

export const ATTESTATION_MODES = ["auto", "key", "keyless", "none"] as const;
export type AttestationMode = (typeof ATTESTATION_MODES)[number];

export interface ReleaseKeyOptions {
  /** auto (default): the key when CLOUD_IMAGES_ATTESTATION_KEY is set, else keyless when an OIDC token is available, else none. */
  readonly attestation?: AttestationMode | undefined;
  readonly fulcioUrl?: string | undefined;
  readonly rekorUrl?: string | undefined;
}

export interface ReleaseKeys {
  readonly openpgp?: SigningKey | undefined;
  readonly attester?: Attester | undefined;
  /** What will be unsigned, for the caller to print. */
  readonly warnings: readonly string[];
}

export async function releaseKeysFromEnv(
  env: NodeJS.ProcessEnv,
  options: ReleaseKeyOptions = {},
): Promise<ReleaseKeys> {
  const mode = options.attestation ?? "auto";
  if (!ATTESTATION_MODES.includes(mode)) {
    throw new UsageError(
      `invalid attestation mode "${String(mode).slice(0, 20)}" (valid: ${ATTESTATION_MODES.join(", ")})`,
    );
  }
  const warnings: string[] = [];
  const armored = env[SIGNING_KEY_ENV];
  let openpgp: SigningKey | undefined;
  if (armored?.trim()) {
    openpgp = await loadSigningKey({
      armoredKey: armored,
      passphrase: env[SIGNING_PASSPHRASE_ENV] || undefined,
      keyFrom: SIGNING_KEY_ENV,
      passphraseFrom: SIGNING_PASSPHRASE_ENV,
    });
  } else {
    warnings.push(`${SIGNING_KEY_ENV} is not set: CHECKSUM files are written unsigned (no CHECKSUM.asc)`);
  }

  const pem = env[ATTESTATION_KEY_ENV];
  let attester: Attester | undefined;
  const keyless = (): Attester => ({
    kind: "keyless",
    fulcioUrl: options.fulcioUrl ?? PUBLIC_GOOD_FULCIO_URL,
    rekorUrl: options.rekorUrl ?? PUBLIC_GOOD_REKOR_URL,
    getToken: oidcTokenFrom(env),
  });
  if (mode === "key" || (mode === "auto" && pem?.trim())) {
    if (!pem?.trim())
      throw new UsageError(`--attestation key needs ${ATTESTATION_KEY_ENV} (a PEM ECDSA P-256 private key)`);
    attester = loadAttestationKey(pem, ATTESTATION_KEY_ENV);
  } else if (mode === "keyless") {
    if (!keylessAvailable(env)) {
      throw new UsageError(
        "--attestation keyless needs an OIDC token: GitHub Actions with `permissions: id-token: write` (or SIGSTORE_ID_TOKEN)",
      );
    }
    attester = keyless();
  } else if (mode === "auto" && keylessAvailable(env)) {
    attester = keyless();
  } else if (mode !== "none") {
    warnings.push(
      `no ${ATTESTATION_KEY_ENV} and no OIDC token (GitHub Actions id-token): no provenance or test-result bundles are written`,
    );
  }
  return { openpgp, attester, warnings };
}
