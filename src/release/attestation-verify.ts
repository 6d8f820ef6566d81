/**
 * Verifying a Sigstore bundle holding a DSSE-wrapped in-toto Statement, with exactly the trust the
 * caller gives: a public key (bundles signed with a local key), or a certificate identity and OIDC
 * issuer checked against a trusted root (keyless bundles; Sigstore's public-good root through TUF
 * when no trusted_root.json file is given).
 */
import type { KeyObject } from "node:crypto";
import { VerificationFailedError } from "../errors.js";
import { IN_TOTO_PAYLOAD_TYPE } from "./attest.js";
import type { InTotoStatement } from "./statements.js";

export type AttestationTrust =
  | { readonly kind: "key"; readonly publicKey: KeyObject; readonly hint: string }
  | {
      readonly kind: "identity";
      /** The certificate's subject alternative name, e.g. the workflow's URI. */
      readonly identity: string;
      readonly issuer: string;
      /** A trusted_root.json (parsed); default: Sigstore's public-good root, fetched through TUF. */
      readonly trustedRoot?: unknown;
    };

export interface VerifiedAttestation {
  readonly statement: InTotoStatement;
  /** Who signed: the key hint, or the certificate's identity and issuer. */
  readonly signer: string;
}

const fail = (what: string, why: string) => new VerificationFailedError(`${what}: ${why}`);

/** `what` names the bundle in messages (its file name). */
export async function verifyAttestation(
  bundleJson: unknown,
  trust: AttestationTrust,
  what: string,
): Promise<VerifiedAttestation> {
  const [{ bundleFromJSON, isBundleWithDsseEnvelope }, verify] = await Promise.all([
    import("@sigstore/bundle"),
    import("@sigstore/verify"),
  ]);
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (e) {
    throw fail(what, `not a Sigstore bundle (${(e as Error).message.split("\n")[0]})`);
  }
  if (!isBundleWithDsseEnvelope(bundle)) throw fail(what, "the bundle holds no DSSE envelope");
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw fail(what, `payload type ${envelope.payloadType}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const key = bundle.verificationMaterial.content;
  let signer: string;
  try {
    const entity = verify.toSignedEntity(bundle);
    if (trust.kind === "key") {
      if (key.$case !== "publicKey") {
        throw fail(
          what,
          "signed keyless (with a certificate): verify it with --certificate-identity and --certificate-oidc-issuer",
        );
      }
      if (key.publicKey.hint !== trust.hint) {
        throw fail(
          what,
          `signed by key ${key.publicKey.hint}, not by the given attestation key ${trust.hint}`,
        );
      }
      const material = {
        certificateAuthorities: [],
        timestampAuthorities: [],
        tlogs: [],
        ctlogs: [],
        publicKey: () => ({ publicKey: trust.publicKey, validFor: () => true }),
      };
      new verify.Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
        entity,
      );
      signer = `key ${trust.hint}`;
    } else {
      if (key.$case === "publicKey") {
        throw fail(
          what,
          `signed with key ${key.publicKey.hint}, not keyless: verify it with --attestation-key`,
        );
      }
      const policy = { subjectAlternativeName: trust.identity, extensions: { issuer: trust.issuer } };
      if (trust.trustedRoot !== undefined) {
        const { TrustedRoot } = await import("@sigstore/protobuf-specs");
        const material = verify.toTrustMaterial(TrustedRoot.fromJSON(trust.trustedRoot));
        new verify.Verifier(material).verify(entity, policy);
      } else {
        // Sigstore's public-good trusted root, fetched (and cached) through TUF.
        const sigstore = await import("sigstore");
        const verifier = await sigstore.createVerifier({
          certificateIdentityURI: trust.identity,
          certificateIssuer: trust.issuer,
        });
        verifier.verify(bundleJson as Parameters<typeof verifier.verify>[0]);
      }
      signer = `${trust.identity} (issuer ${trust.issuer})`;
    }
  } catch (e) {
    if (e instanceof VerificationFailedError) throw e;
    const message = (e as Error).message.split("\n")[0] ?? String(e);
    throw fail(
      what,
      message.startsWith("signature verification failed")
        ? "the signature does not match the statement (changed after signing, or another key)"
        : message,
    );
  }
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString("utf8")) as InTotoStatement;
  } catch {
    throw fail(what, "the signed payload is not JSON");
  }
  return { statement, signer };
}
