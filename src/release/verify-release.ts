/**
 * Verifying a released folder, as a downloader would: CHECKSUM.asc against the OpenPGP key, every
 * listed file's size and SHA-256, and each image's Sigstore bundles (signature, trust, and that their
 * subject is this very image). The result lists every problem found, one line each, naming the file.
 */
import { VerificationFailedError } from "../errors.js";
import { roleOf } from "../publish/publish.js";
import { type AttestationTrust, verifyAttestation } from "./attestation-verify.js";
import { type ChecksumEntry, parseChecksumFile } from "./checksum-file.js";
import { type SignatureCheck, type VerificationKeys, verifyDetached } from "./openpgp.js";
import { bundleNames, CHECKSUM_NAME, SIGNATURE_NAME } from "./release.js";
import type { ReleaseSource } from "./source.js";
import { type InTotoStatement, SLSA_PROVENANCE_V1, TEST_RESULT_V0_1 } from "./statements.js";

export interface VerifyReleaseOptions {
  readonly keys: VerificationKeys;
  /** How to trust the bundles; without it they are not verified (and the result says so). */
  readonly trust?: AttestationTrust | undefined;
  /** Bytes just read of a listed file, and its size as CHECKSUM gives it (when it does). */
  readonly onProgress?: ((name: string, bytes: number, size: number | undefined) => void) | undefined;
}

export interface VerifiedFile {
  readonly name: string;
  readonly size?: number | undefined;
  readonly sha256: string;
  readonly status: "ok" | "missing" | "size differs" | "sha256 differs";
}

/** What an image's bundles say, once verified. */
export interface ImageAttestation {
  readonly image: string;
  readonly signer?: string | undefined;
  readonly leg?: { type: string; variant: string; arch: string } | undefined;
  readonly release?: string | undefined;
  readonly timeStamp?: string | undefined;
  readonly templates?: { repository?: string; commit?: string; dirty?: boolean } | undefined;
  readonly builder?: string | undefined;
  readonly tool?: string | undefined;
  readonly tests?: { result: string; passed: number; warned: string[]; failed: string[] } | undefined;
}

export interface ReleaseVerification {
  readonly where: string;
  readonly ok: boolean;
  readonly signature: SignatureCheck;
  readonly files: readonly VerifiedFile[];
  readonly attestations: readonly ImageAttestation[];
  /** One line per problem: `NAME: what differed`. */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

const short = (hex: string) => `${hex.slice(0, 12)}…`;

export async function verifyRelease(
  source: ReleaseSource,
  options: VerifyReleaseOptions,
): Promise<ReleaseVerification> {
  const checksum = await source.read(CHECKSUM_NAME);
  if (!checksum) throw new VerificationFailedError(`no ${CHECKSUM_NAME} in ${source.where}`);
  const signature = await source.read(SIGNATURE_NAME);
  if (!signature) {
    throw new VerificationFailedError(
      `${CHECKSUM_NAME} in ${source.where} is not signed (no ${SIGNATURE_NAME})`,
    );
  }
  const signed = await verifyDetached(checksum, signature.toString("utf8"), options.keys, {
    data: CHECKSUM_NAME,
    signature: SIGNATURE_NAME,
  });
  let entries: ChecksumEntry[];
  try {
    entries = parseChecksumFile(checksum.toString("utf8"));
  } catch (e) {
    throw new VerificationFailedError((e as Error).message);
  }
  if (entries.length === 0) throw new VerificationFailedError(`${CHECKSUM_NAME} lists no file`);

  const problems: string[] = [];
  const notes: string[] = [];
  const files: VerifiedFile[] = [];
  for (const entry of entries) {
    const found = await source.digest(entry.name, (n) => options.onProgress?.(entry.name, n, entry.size));
    let status: VerifiedFile["status"] = "ok";
    if (!found) {
      status = "missing";
      problems.push(`${entry.name}: listed in ${CHECKSUM_NAME} but not in ${source.where}`);
    } else if (entry.size !== undefined && found.size !== entry.size) {
      status = "size differs";
      problems.push(`${entry.name}: ${found.size} bytes, ${CHECKSUM_NAME} says ${entry.size}`);
    } else if (found.sha256 !== entry.sha256) {
      status = "sha256 differs";
      problems.push(
        `${entry.name}: SHA-256 ${short(found.sha256)}, ${CHECKSUM_NAME} says ${short(entry.sha256)}`,
      );
    }
    files.push({
      name: entry.name,
      size: found?.size ?? entry.size,
      sha256: found?.sha256 ?? entry.sha256,
      status,
    });
  }

  const listed = new Map(entries.map((e) => [e.name, e]));
  const images = entries.filter((e) => roleOf(e.name) === "image");
  const attestations: ImageAttestation[] = [];
  if (!options.trust) {
    const any = images.some((i) => listed.has(bundleNames.provenance(i.name)));
    notes.push(
      any
        ? "attestations not verified: give --attestation-key PEM, or --certificate-identity and --certificate-oidc-issuer"
        : "this folder has no attestations",
    );
  } else {
    for (const image of images) {
      attestations.push(await checkImageAttestations(source, image, listed, files, options.trust, problems));
    }
  }
  return {
    where: source.where,
    ok: problems.length === 0,
    signature: signed,
    files,
    attestations,
    problems,
    notes,
  };
}

async function checkImageAttestations(
  source: ReleaseSource,
  image: ChecksumEntry,
  listed: ReadonlyMap<string, ChecksumEntry>,
  files: readonly VerifiedFile[],
  trust: AttestationTrust,
  problems: string[],
): Promise<ImageAttestation> {
  const summary: { -readonly [K in keyof ImageAttestation]: ImageAttestation[K] } = { image: image.name };
  for (const [which, predicateType] of [
    ["provenance", SLSA_PROVENANCE_V1],
    ["tests", TEST_RESULT_V0_1],
  ] as const) {
    const name = bundleNames[which](image.name);
    if (!listed.has(name)) {
      problems.push(
        `${image.name}: no ${which === "provenance" ? "provenance" : "test-result"} bundle (${name}) listed in ${CHECKSUM_NAME}`,
      );
      continue;
    }
    if (files.find((f) => f.name === name)?.status !== "ok") continue; // already reported
    const data = await source.read(name);
    let statement: InTotoStatement;
    try {
      const parsed = JSON.parse(data!.toString("utf8")) as unknown;
      const verified = await verifyAttestation(parsed, trust, name);
      statement = verified.statement;
      summary.signer = verified.signer;
    } catch (e) {
      problems.push(e instanceof VerificationFailedError ? e.message : `${name}: not JSON`);
      continue;
    }
    if (statement.predicateType !== predicateType) {
      problems.push(`${name}: predicate type ${statement.predicateType}, expected ${predicateType}`);
      continue;
    }
    const subjects = Array.isArray(statement.subject) ? statement.subject : [];
    const match = subjects.find((s) => s?.name === image.name && s?.digest?.sha256 === image.sha256);
    if (!match) {
      const s = subjects[0];
      problems.push(
        `${name}: its subject is ${s ? `${s.name} (sha256 ${short(String(s.digest?.sha256))})` : "empty"}, not ${image.name} (sha256 ${short(image.sha256)})`,
      );
      continue;
    }
    if (which === "provenance") Object.assign(summary, provenanceSummary(statement));
    else {
      const p = statement.predicate as {
        result?: string;
        passedTests?: string[];
        warnedTests?: string[];
        failedTests?: string[];
      };
      summary.tests = {
        result: String(p.result),
        passed: p.passedTests?.length ?? 0,
        warned: p.warnedTests ?? [],
        failed: p.failedTests ?? [],
      };
      if (p.result === "FAILED")
        problems.push(`${name}: the tests of ${image.name} failed (${(p.failedTests ?? []).join(", ")})`);
    }
  }
  return summary;
}

function provenanceSummary(statement: InTotoStatement): Partial<ImageAttestation> {
  const p = statement.predicate as {
    buildDefinition?: {
      externalParameters?: {
        leg?: ImageAttestation["leg"];
        release?: string;
        timeStamp?: string;
        templates?: { repository?: string };
      };
      internalParameters?: { templatesDirty?: boolean };
      resolvedDependencies?: { name?: string; uri?: string; digest?: Record<string, string> }[];
    };
    runDetails?: { builder?: { id?: string; version?: Record<string, string> } };
  };
  const params = p.buildDefinition?.externalParameters;
  const templates = p.buildDefinition?.resolvedDependencies?.find((d) => d.name === "templates");
  return {
    leg: params?.leg,
    release: params?.release,
    timeStamp: params?.timeStamp,
    templates: {
      ...(params?.templates?.repository ? { repository: params.templates.repository } : {}),
      ...(templates?.digest?.gitCommit ? { commit: templates.digest.gitCommit } : {}),
      ...(p.buildDefinition?.internalParameters?.templatesDirty ? { dirty: true } : {}),
    },
    builder: p.runDetails?.builder?.id,
    tool: p.runDetails?.builder?.version?.["cloud-images"],
  };
}
