/**
 * The demo's release keys: the ones in CLOUD_IMAGES_SIGNING_KEY (+ _PASSPHRASE) and
 * CLOUD_IMAGES_ATTESTATION_KEY when set, else a throwaway pair of each made for this run. Either way the
 * public halves are written to `dir` (openpgp.pub.asc, attestation.pub.pem) so the demo can verify what
 * it released; the private halves only ever travel in the environment of the `cloud-images run` child.
 */
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadAttestationKey } from "../../../src/release/attest.js";
import { ATTESTATION_KEY_ENV, SIGNING_KEY_ENV, SIGNING_PASSPHRASE_ENV } from "../../../src/release/keys.js";
import { generateSigningKey, loadSigningKey, publicKeyOf } from "../../../src/release/openpgp.js";

export interface DemoReleaseKeys {
  /** Variables to add to the `cloud-images run` child's environment (the generated private keys). */
  readonly env: Record<string, string>;
  readonly openpgpPublic: string;
  readonly attestationPublic: string;
  /** Which keys were made for this run (the others came from the environment). */
  readonly generated: readonly ("openpgp" | "attestation")[];
  /** Fingerprint of the OpenPGP key. */
  readonly fingerprint: string;
}

export async function demoReleaseKeys(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DemoReleaseKeys> {
  mkdirSync(dir, { recursive: true });
  const childEnv: Record<string, string> = {};
  const generated: ("openpgp" | "attestation")[] = [];

  let openpgpPublic: string;
  let fingerprint: string;
  const armored = env[SIGNING_KEY_ENV];
  if (armored?.trim()) {
    const key = await loadSigningKey({
      armoredKey: armored,
      passphrase: env[SIGNING_PASSPHRASE_ENV] || undefined,
      keyFrom: SIGNING_KEY_ENV,
      passphraseFrom: SIGNING_PASSPHRASE_ENV,
    });
    openpgpPublic = publicKeyOf(key);
    fingerprint = key.fingerprint;
  } else {
    const pair = await generateSigningKey("cloud-images demo (throwaway)", "demo@localhost");
    childEnv[SIGNING_KEY_ENV] = pair.privateKey;
    childEnv[SIGNING_PASSPHRASE_ENV] = "";
    openpgpPublic = pair.publicKey;
    fingerprint = pair.fingerprint;
    generated.push("openpgp");
  }

  let attestationPublic: string;
  const pem = env[ATTESTATION_KEY_ENV];
  if (pem?.trim()) {
    attestationPublic = loadAttestationKey(pem, ATTESTATION_KEY_ENV).publicKeyPem;
  } else {
    const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    childEnv[ATTESTATION_KEY_ENV] = pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    attestationPublic = createPublicKey(pair.privateKey).export({ format: "pem", type: "spki" }).toString();
    generated.push("attestation");
  }

  const paths = { openpgp: join(dir, "openpgp.pub.asc"), attestation: join(dir, "attestation.pub.pem") };
  writeFileSync(paths.openpgp, openpgpPublic);
  writeFileSync(paths.attestation, attestationPublic);
  return {
    env: childEnv,
    openpgpPublic: paths.openpgp,
    attestationPublic: paths.attestation,
    generated,
    fingerprint,
  };
}
