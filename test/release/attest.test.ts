/**
 * Sigstore bundles of our statements: signed with a local P-256 key (verified by @sigstore/verify with
 * only that key trusted, and by our verifyAttestation), and keyless against an offline Fulcio/Rekor
 * (@sigstore/mock behind a loopback HTTP server, GitHub Actions' token endpoint imitated).
 */
import { generateKeyPairSync } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity, Verifier } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigningKeyError, VerificationFailedError } from "../../src/errors.js";
import { attest, keyHint, loadAttestationKey, loadAttestationPublicKey } from "../../src/release/attest.js";
import { verifyAttestation } from "../../src/release/attestation-verify.js";
import { IN_TOTO_STATEMENT_V1, TEST_RESULT_V0_1 } from "../../src/release/statements.js";
import { MOCK_IDENTITY, MOCK_ISSUER, type MockSigstore, startMockSigstore } from "./helpers/mock-sigstore.js";

const statement = {
  _type: IN_TOTO_STATEMENT_V1,
  subject: [
    { name: "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2", digest: { sha256: "ab".repeat(32) } },
  ],
  predicateType: TEST_RESULT_V0_1,
  predicate: { result: "PASSED", configuration: [], passedTests: ["verify/release-file"] },
};

function p256() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    sec1Pem: privateKey.export({ format: "pem", type: "sec1" }).toString(),
    publicPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    publicKey,
  };
}

const usage = (m: string) => new VerificationFailedError(m);

describe("bundles signed with a local key", () => {
  const key = p256();
  const other = p256();

  it("verify with @sigstore/verify trusting only the test key, and with verifyAttestation", async () => {
    const attester = loadAttestationKey(key.privatePem, "CLOUD_IMAGES_ATTESTATION_KEY");
    const json = await attest(statement, attester);
    expect(json.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    const bundle = bundleFromJSON(json);
    const hint = keyHint(key.publicKey);
    const trusted = {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: (h: string) => {
        if (h !== hint) throw new Error(`untrusted key ${h}`);
        return { publicKey: key.publicKey, validFor: () => true };
      },
    };
    const signer = new Verifier(trusted, {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    }).verify(toSignedEntity(bundle));
    expect(signer.key.export({ format: "pem", type: "spki" })).toBe(key.publicPem);
    // The other key does not verify it.
    const wrong = { ...trusted, publicKey: () => ({ publicKey: other.publicKey, validFor: () => true }) };
    expect(() =>
      new Verifier(wrong, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
        toSignedEntity(bundle),
      ),
    ).toThrow(/signature verification failed/);

    const trust = { kind: "key" as const, ...loadAttestationPublicKey(key.publicPem, "pub", usage) };
    const verified = await verifyAttestation(json, trust, "x.sigstore.json");
    expect(verified.statement).toEqual(statement);
    expect(verified.signer).toBe(`key ${hint}`);
  });

  it("SEC1 PEM keys work; the other key, a changed payload and a keyless check each fail with their own message", async () => {
    const json = await attest(statement, loadAttestationKey(key.sec1Pem, "K"));
    const otherTrust = { kind: "key" as const, ...loadAttestationPublicKey(other.publicPem, "pub", usage) };
    await expect(verifyAttestation(json, otherTrust, "a.sigstore.json")).rejects.toThrow(
      /^a\.sigstore\.json: signed by key [0-9a-f]{64}, not by the given attestation key/,
    );
    const tampered = structuredClone(json) as { dsseEnvelope: { payload: string } };
    const payload = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, "base64").toString());
    payload.subject[0].digest.sha256 = "cd".repeat(32);
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString("base64");
    const trust = { kind: "key" as const, ...loadAttestationPublicKey(key.publicPem, "pub", usage) };
    await expect(verifyAttestation(tampered, trust, "b.sigstore.json")).rejects.toThrow(
      /^b\.sigstore\.json: the signature does not match the statement/,
    );
    await expect(
      verifyAttestation(
        json,
        { kind: "identity", identity: MOCK_IDENTITY, issuer: MOCK_ISSUER, trustedRoot: {} },
        "c.sigstore.json",
      ),
    ).rejects.toThrow(/^c\.sigstore\.json: signed with key .*verify it with --attestation-key/);
    await expect(verifyAttestation({ not: "a bundle" }, trust, "d.json")).rejects.toThrow(
      /^d\.json: not a Sigstore bundle/,
    );
  });

  it("refuses keys that cannot attest, without quoting them", () => {
    const body = key.privatePem.split("\n")[1]!;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const cases: [string, RegExp][] = [
      ["", /^K is not a PEM private key/],
      [key.publicPem, /^K holds a public key/],
      [rsa, /^K holds a rsa key; attestations need an ECDSA P-256 key$/],
      [p384, /^K holds an EC key on secp384r1/],
      [key.privatePem.replace(/[A-Za-z0-9+/]{20}/, "x".repeat(20)), /^K is not a readable PEM private key/],
    ];
    for (const [pem, message] of cases) {
      let error: unknown;
      try {
        loadAttestationKey(pem, "K");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SigningKeyError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(body.slice(0, 16));
    }
  });
});

describe("keyless bundles (offline Fulcio and Rekor from @sigstore/mock)", () => {
  let sigstore: MockSigstore;
  const saved = { ...process.env };
  beforeAll(async () => {
    sigstore = await startMockSigstore();
    Object.assign(process.env, sigstore.env);
  });
  afterAll(async () => {
    for (const k of Object.keys(sigstore.env)) delete process.env[k];
    Object.assign(process.env, saved);
    await sigstore.close();
  });

  it("gets a certificate for the workflow identity, logs the signature, and verifies against the trusted root", async () => {
    const json = await attest(statement, {
      kind: "keyless",
      fulcioUrl: sigstore.url,
      rekorUrl: sigstore.url,
    });
    expect(sigstore.requests).toEqual(
      expect.arrayContaining(["/token", "/api/v2/signingCert", "/api/v1/log/entries"]),
    );
    const material = (json as { verificationMaterial: Record<string, unknown> }).verificationMaterial;
    expect(material.certificate).toBeDefined();
    expect(material.tlogEntries).toHaveLength(1);

    const trust = {
      kind: "identity" as const,
      identity: MOCK_IDENTITY,
      issuer: MOCK_ISSUER,
      trustedRoot: sigstore.trustedRoot,
    };
    const verified = await verifyAttestation(json, trust, "k.sigstore.json");
    expect(verified.statement).toEqual(statement);
    expect(verified.signer).toBe(`${MOCK_IDENTITY} (issuer ${MOCK_ISSUER})`);

    await expect(
      verifyAttestation(
        json,
        { ...trust, identity: "https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main" },
        "k.sigstore.json",
      ),
    ).rejects.toThrow(/^k\.sigstore\.json: certificate identity error/);
    await expect(
      verifyAttestation(json, { ...trust, issuer: "https://accounts.example.org" }, "k.sigstore.json"),
    ).rejects.toThrow(/^k\.sigstore\.json: invalid certificate extension - expected issuer=/);
    const key = p256();
    await expect(
      verifyAttestation(
        json,
        { kind: "key", ...loadAttestationPublicKey(key.publicPem, "pub", usage) },
        "k.sigstore.json",
      ),
    ).rejects.toThrow(/signed keyless/);
    // Another trusted root (another CA and logs) does not trust it.
    const stranger = await startMockSigstore();
    try {
      await expect(
        verifyAttestation(json, { ...trust, trustedRoot: stranger.trustedRoot }, "k.sigstore.json"),
      ).rejects.toThrow(/^k\.sigstore\.json: /);
    } finally {
      await stranger.close();
    }
  });
});
