import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseDuration } from "../../durations.js";
import { UsageError } from "../../errors.js";
import { loadAttestationPublicKey } from "../../release/attest.js";
import type { AttestationTrust } from "../../release/attestation-verify.js";
import { readVerificationKeys } from "../../release/openpgp.js";
import { openReleaseSource } from "../../release/source.js";
import { type ImageAttestation, verifyRelease } from "../../release/verify-release.js";
import { ProgressLine } from "../progress.js";
import { action, formatBytes, printJson, printLines } from "../util.js";

interface VerifyReleaseCliOptions {
  key: string;
  attestationKey?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  timeout: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("verify-release")
    .description(
      "check a released folder as a downloader would: CHECKSUM.asc against the OpenPGP key, every listed\n" +
        "file's size and SHA-256, and each image's provenance and test-result bundles",
    )
    .argument("<FOLDER|URL>", "a local folder, or the folder's http(s):// URL")
    .requiredOption(
      "--key <FILE>",
      "the OpenPGP public key CHECKSUM.asc must be signed with (armored or binary)",
    )
    .option("--attestation-key <FILE>", "PEM public key the bundles must be signed with")
    .option(
      "--certificate-identity <ID>",
      "keyless bundles: the signing certificate's identity (the workflow URI)",
    )
    .option(
      "--certificate-oidc-issuer <URL>",
      "keyless bundles: the OIDC issuer (https://token.actions.githubusercontent.com)",
    )
    .option(
      "--trusted-root <FILE>",
      "keyless bundles: a Sigstore trusted_root.json (default: Sigstore's public root via TUF)",
    )
    .option("--timeout <SECONDS>", "per HTTP request", "600")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExit codes: 0 everything verified, 1 something differs (each problem named on stderr), 2 bad input.\n" +
        "Without --attestation-key or --certificate-identity the bundles are checked against CHECKSUM only.\n" +
        "\nExamples:\n" +
        "  cloud-images verify-release dist/bucket/images/9/9.6/gencloud/20260220143000 --key dist/release-keys/openpgp.pub.asc \\\n" +
        "    --attestation-key dist/release-keys/attestation.pub.pem\n" +
        "  cloud-images verify-release https://almalinux-cloud.s3-accelerate.dualstack.amazonaws.com/images/9/9.6/gencloud/20260220143000/ \\\n" +
        "    --key RPM-GPG-KEY-AlmaLinux-9 --certificate-identity https://github.com/AlmaLinux/cloud-images/.github/workflows/gencloud-build.yml@refs/heads/main \\\n" +
        "    --certificate-oidc-issuer https://token.actions.githubusercontent.com",
    )
    .action(action(run));
}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : code}`);
  }
}

async function trustOf(opts: VerifyReleaseCliOptions): Promise<AttestationTrust | undefined> {
  const keyless = opts.certificateIdentity !== undefined || opts.certificateOidcIssuer !== undefined;
  if (opts.attestationKey && keyless) {
    throw new UsageError(
      "give either --attestation-key or --certificate-identity/--certificate-oidc-issuer, not both",
    );
  }
  if (opts.trustedRoot && !keyless) {
    throw new UsageError("--trusted-root applies to keyless bundles (--certificate-identity)");
  }
  if (opts.attestationKey) {
    const pem = (await readInput(opts.attestationKey, "attestation key")).toString("utf8");
    return { kind: "key", ...loadAttestationPublicKey(pem, opts.attestationKey, (m) => new UsageError(m)) };
  }
  if (!keyless) return undefined;
  if (!opts.certificateIdentity || !opts.certificateOidcIssuer) {
    throw new UsageError(
      "keyless verification needs both --certificate-identity and --certificate-oidc-issuer",
    );
  }
  let trustedRoot: unknown;
  if (opts.trustedRoot) {
    try {
      trustedRoot = JSON.parse((await readInput(opts.trustedRoot, "trusted root")).toString("utf8"));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${opts.trustedRoot} is not JSON (expected a Sigstore trusted_root.json)`);
    }
  }
  return {
    kind: "identity",
    identity: opts.certificateIdentity,
    issuer: opts.certificateOidcIssuer,
    ...(trustedRoot !== undefined ? { trustedRoot } : {}),
  };
}

async function run(location: string, opts: VerifyReleaseCliOptions): Promise<number> {
  const timeoutMs = parseDuration(opts.timeout, { flag: "--timeout", unit: "seconds", max: 86_400 });
  const keys = await readVerificationKeys(await readInput(opts.key, "key"), opts.key);
  const trust = await trustOf(opts);
  const source = await openReleaseSource(location, { timeoutMs });
  const progress = new ProgressLine(process.stderr.isTTY === true);
  let done = 0;
  let current = "";
  const result = await verifyRelease(source, {
    keys,
    trust,
    onProgress: (name, bytes, size) => {
      if (name !== current) {
        current = name;
        done = 0;
      }
      done += bytes;
      progress.update({ name, phase: "hashing", bytesDone: done, bytesTotal: size ?? done });
    },
  });
  progress.clear();
  if (opts.json) printJson(result);
  else printLines(humanLines(result));
  for (const problem of result.problems) process.stderr.write(`cloud-images: error: ${problem}\n`);
  return result.ok ? 0 : 1;
}

function humanLines(result: Awaited<ReturnType<typeof verifyRelease>>): string[] {
  const s = result.signature;
  const lines = [
    `CHECKSUM.asc: good signature by ${s.fingerprint}${s.created ? ` (made ${s.created})` : ""}`,
    ...result.files.map(
      (f) =>
        `  ${f.status === "ok" ? "OK  " : "FAIL"} ${f.name}${f.size !== undefined ? ` (${formatBytes(f.size)})` : ""}${f.status === "ok" ? "" : `: ${f.status}`}`,
    ),
  ];
  for (const a of result.attestations) lines.push(...attestationLines(a));
  for (const note of result.notes) lines.push(`note: ${note}`);
  lines.push(
    result.ok
      ? `verified: ${result.files.length} files, ${result.attestations.length} attested image(s) in ${result.where}`
      : `NOT verified: ${result.problems.length} problem(s) in ${result.where}`,
  );
  return lines;
}

function attestationLines(a: ImageAttestation): string[] {
  const lines = [`${a.image}:`];
  if (a.leg)
    lines.push(
      `  leg:       ${a.leg.type} ${a.leg.variant} ${a.leg.arch}, release ${a.release ?? "?"}, stamp ${a.timeStamp ?? "?"}`,
    );
  if (a.templates) {
    const t = a.templates;
    const dirty = t.dirty ? " (with uncommitted changes)" : "";
    lines.push(
      `  templates: ${t.repository ?? "(repository unknown)"} @ ${t.commit ?? "(commit unknown)"}${dirty}`,
    );
  }
  if (a.builder) lines.push(`  builder:   ${a.builder}${a.tool ? ` (cloud-images ${a.tool})` : ""}`);
  if (a.tests) {
    const extra = [
      ...(a.tests.warned.length > 0 ? [`warned: ${a.tests.warned.join(", ")}`] : []),
      ...(a.tests.failed.length > 0 ? [`failed: ${a.tests.failed.join(", ")}`] : []),
    ];
    lines.push(
      `  tests:     ${a.tests.result} (${a.tests.passed} passed${extra.length > 0 ? `; ${extra.join("; ")}` : ""})`,
    );
  }
  if (a.signer) lines.push(`  signed by: ${a.signer}`);
  return lines;
}
