/**
 * An offline Sigstore for the keyless path: @sigstore/mock's Fulcio (a CA with a CT log) and Rekor (a
 * transparency log) behind one HTTP server on 127.0.0.1, plus GitHub Actions' OIDC token endpoint
 * (what ACTIONS_ID_TOKEN_REQUEST_URL points at) handing out an unsigned JWT, and the trusted_root.json
 * that trusts exactly this CA and these logs.
 *
 * The mock log records a proposed entry as it is; real Rekor turns a proposed `dsse` entry into its
 * canonical body (hashes of the envelope and payload, the signatures with their verifiers), which is
 * what verifiers compare the bundle against. The server does that conversion before logging.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } from "@sigstore/mock";

export const MOCK_ISSUER = "https://token.actions.githubusercontent.com";
export const MOCK_IDENTITY =
  "https://github.com/AlmaLinux/cloud-images/.github/workflows/gencloud-build.yml@refs/heads/main";

export interface MockSigstore {
  readonly url: string;
  /** Environment that makes the tool find the OIDC token as in GitHub Actions. */
  readonly env: Record<string, string>;
  readonly trustedRoot: unknown;
  /** Requests served, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

interface ProposedDsse {
  kind: string;
  apiVersion: string;
  spec: { proposedContent?: { envelope: string; verifiers: string[] } };
}

/** Rekor's dsse v0.0.1 canonicalization of a proposed entry (other kinds pass through). */
function canonicalDsse(body: string): string {
  const proposed = JSON.parse(body) as ProposedDsse;
  const content = proposed.spec.proposedContent;
  if (proposed.kind !== "dsse" || !content) return body;
  const envelope = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
  return JSON.stringify({
    kind: "dsse",
    apiVersion: "0.0.1",
    spec: {
      envelopeHash: { algorithm: "sha256", value: sha256(content.envelope) },
      payloadHash: { algorithm: "sha256", value: sha256(Buffer.from(envelope.payload, "base64")) },
      signatures: envelope.signatures.map((s) => ({ signature: s.sig, verifier: content.verifiers[0] })),
    },
  });
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export async function startMockSigstore(identity = MOCK_IDENTITY): Promise<MockSigstore> {
  const caKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const tlogKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const ctlog = await initializeCTLog(caKeys);
  const ca = await initializeCA(caKeys, ctlog);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      requests.push(path);
      const body = Buffer.concat(chunks).toString("utf8");
      if (req.method === "GET" && path === "/token") {
        const now = Math.floor(Date.now() / 1000);
        const jwt = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ iss: MOCK_ISSUER, sub: identity, aud: "sigstore", iat: now, exp: now + 600 })}.`;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: jwt }));
        return;
      }
      const handler =
        path === "/api/v2/signingCert" ? fulcio : path === "/api/v1/log/entries" ? rekor : undefined;
      if (req.method !== "POST" || !handler) {
        res.writeHead(404).end();
        return;
      }
      const out = await handler.fn(handler === rekor ? canonicalDsse(body) : body);
      res.writeHead(out.statusCode, { "content-type": out.contentType ?? "text/plain" }).end(out.response);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const tlog = await initializeTLog(url, tlogKeys);
  const fulcio = fulcioHandler(ca, { strict: true });
  const rekor = rekorHandler(tlog, { strict: true });
  const start = new Date(Date.now() - 60_000).toISOString();
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: tlog.publicKey.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: createHash("sha256").update(tlog.publicKey).digest("base64") },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "sigstore" },
        uri: url,
        certChain: {
          certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer).toString("base64") }],
        },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: ctlog.publicKey.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: Buffer.from(ctlog.logID.buffer).toString("base64") },
      },
    ],
    timestampAuthorities: [],
  };
  return {
    url,
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?x=1`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "test-request-token",
    },
    trustedRoot,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
