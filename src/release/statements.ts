/**
 * The in-toto Statements (v1) made for each published image, from its leg manifest (pure):
 * - SLSA provenance v1: how the image was built (leg, templates commit, tool versions, parameters)
 *   and where (the GitHub Actions run, or the host);
 * - test-result v0.1: the offline verification checks (the verify step's verdict, with its policy
 *   checks) and the boot test.
 */
import type { LegManifest } from "../manifest/manifest.js";

export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
export const TEST_RESULT_V0_1 = "https://in-toto.io/attestation/test-result/v0.1";
/** What our provenance's externalParameters and resolvedDependencies mean (README: "Provenance"). */
export const LEG_BUILD_TYPE = "https://almalinux.org/cloud-images/buildtypes/leg/v1";

export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface InTotoStatement {
  readonly _type: string;
  readonly subject: readonly { readonly name: string; readonly digest: Readonly<Record<string, string>> }[];
  readonly predicateType: string;
  readonly predicate: Record<string, unknown>;
}

/** The image a statement is about: the manifest's image as published. */
export interface StatementSubject {
  readonly name: string;
  readonly sha256: string;
}

function subjectOf(image: StatementSubject): InTotoStatement["subject"] {
  return [{ name: image.name, digest: { sha256: image.sha256 } }];
}

function gitDependency(
  name: string,
  source: { repository?: string; commit?: string; ref?: string } | undefined,
) {
  if (!source?.commit) return undefined;
  const uri = source.repository
    ? `git+${source.repository}${source.ref ? `@refs/heads/${source.ref}` : ""}`
    : undefined;
  return { name, ...(uri ? { uri } : {}), digest: { gitCommit: source.commit } };
}

/** When the build started and ended: its first and last recorded steps. */
function buildTimes(manifest: LegManifest): { startedOn?: string; finishedOn?: string } {
  const ran = manifest.steps.filter((s) => s.status !== "skipped");
  const first = ran[0];
  const last = ran.filter((s) => s.name !== "report").at(-1);
  return {
    ...(first ? { startedOn: first.startedAt } : {}),
    ...(last ? { finishedOn: last.endedAt } : {}),
  };
}

export function provenanceStatement(manifest: LegManifest, image: StatementSubject): InTotoStatement {
  const r = manifest.resolved;
  const tools = manifest.tools;
  const templates = manifest.sources?.templates;
  const dependencies: ResourceDescriptor[] = [];
  const templatesDep = gitDependency("templates", templates);
  if (templatesDep) dependencies.push(templatesDep);
  const toolDep = gitDependency("cloud-images", manifest.sources?.tool);
  if (toolDep) dependencies.push(toolDep);
  for (const [name, version] of Object.entries(tools)) {
    if (name === "cloud-images" && toolDep) continue;
    dependencies.push({
      name,
      uri: `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}`,
    });
  }
  const byproducts: ResourceDescriptor[] = (manifest.published?.objects ?? [])
    .filter((o) => o.role !== "image")
    .map((o) => ({ name: o.name, digest: { sha256: o.sha256 } }));
  const builder = manifest.builder;
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subjectOf(image),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: LEG_BUILD_TYPE,
        externalParameters: {
          leg: manifest.leg,
          release: r.release,
          timeStamp: manifest.timeStamp,
          templates: {
            ...(templates?.repository ? { repository: templates.repository } : {}),
            ...(templates?.ref ? { ref: templates.ref } : {}),
            ...(manifest.templatesDir ? { dir: manifest.templatesDir } : {}),
          },
          ...(manifest.published ? { store: manifest.published.store, prefix: r.s3Prefix } : {}),
        },
        internalParameters: {
          packerSource: r.packerSource,
          outputMask: r.outputMask,
          releaseString: r.releaseString,
          releasePackage: r.releasePackage,
          imageFormat: r.imageFormat,
          rootFilesystem: r.rootFilesystem,
          ...(templates?.dirty !== undefined ? { templatesDirty: templates.dirty } : {}),
        },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: {
          id: builder?.id ?? "urn:cloud-images:host:unknown",
          version: { "cloud-images": tools["cloud-images"] ?? "unknown" },
        },
        metadata: {
          invocationId: builder?.id ?? `urn:cloud-images:build:${manifest.timeStamp}`,
          ...buildTimes(manifest),
        },
        byproducts,
      },
    },
  };
}

export type TestOutcome = "PASSED" | "WARNED" | "FAILED";

/**
 * Test names: `verify/CHECK` for every offline check, `boot/CHECK` for every boot test check (or `boot`
 * for a manifest that records only the boot test's outcome).
 */
export function testResults(manifest: LegManifest): {
  result: TestOutcome;
  passed: string[];
  warned: string[];
  failed: string[];
  skipped: string[];
} {
  const lists = { pass: [] as string[], warn: [] as string[], fail: [] as string[], skip: [] as string[] };
  const tally = (prefix: string, checks: readonly { name: string; status: keyof typeof lists }[]) => {
    for (const check of checks) lists[check.status].push(`${prefix}/${check.name}`);
  };
  tally("verify", manifest.verdict?.checks ?? []);
  if (!manifest.verdict && manifest.tests.offline !== "n/a") {
    (manifest.tests.offline === "passed" ? lists.pass : lists.fail).push("verify");
  }
  tally("boot", manifest.bootTest?.checks ?? []);
  const boot = manifest.tests.boot;
  if (!manifest.bootTest && (boot === "passed" || boot === "failed"))
    (boot === "passed" ? lists.pass : lists.fail).push("boot");
  const result: TestOutcome = lists.fail.length > 0 ? "FAILED" : lists.warn.length > 0 ? "WARNED" : "PASSED";
  return { result, passed: lists.pass, warned: lists.warn, failed: lists.fail, skipped: lists.skip };
}

export function testResultStatement(manifest: LegManifest, image: StatementSubject): InTotoStatement {
  const tests = testResults(manifest);
  const r = manifest.resolved;
  const runUrl = manifest.builder?.id.startsWith("https://") ? manifest.builder.id : undefined;
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subjectOf(image),
    predicateType: TEST_RESULT_V0_1,
    predicate: {
      result: tests.result,
      configuration: [
        {
          name: "cloud-images verify",
          uri: `pkg:npm/cloud-images@${encodeURIComponent(manifest.tools["cloud-images"] ?? "unknown")}`,
          annotations: {
            leg: manifest.leg,
            releaseString: r.releaseString,
            releasePackage: r.releasePackage,
            arch: r.almaArch,
            rootPartition: r.rootPartition,
            ...(tests.skipped.length > 0 ? { skippedTests: tests.skipped } : {}),
          },
        },
      ],
      ...(runUrl ? { url: runUrl } : {}),
      passedTests: tests.passed,
      warnedTests: tests.warned,
      failedTests: tests.failed,
    },
  };
}
