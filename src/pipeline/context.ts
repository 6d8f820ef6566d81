/** What the steps of one leg share: the options, the resolved leg, the state built so far, the log. */
import type { Leg } from "../catalog/catalog.js";
import type { Verdict } from "../inspect/verdict.js";
import type { LegManifest, StepName } from "../manifest/manifest.js";
import type { StoreOptions } from "../publish/open-store.js";
import type { PublishedObject } from "../publish/published-object.js";
import type { Tags } from "../publish/types.js";
import type { ResolvedLeg } from "../resolve/resolve.js";
import type { LegPaths } from "./leg-paths.js";

export interface RunLegOptions {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
  /** Directory holding the Packer templates; Packer runs there and writes output-* there. */
  readonly templatesDir: string;
  /** Point release (e.g. 9.6); looked up from the mirror when absent (Kitten: 10). */
  readonly release?: string | undefined;
  readonly mirror?: string | undefined;
  /** YYYYMMDDhhmmss; default now (UTC). */
  readonly timestamp?: string | undefined;
  /** `file://DIR`, `s3://BUCKET` or `none`. */
  readonly store: string;
  readonly storeOptions?: StoreOptions | undefined;
  readonly tags?: Tags | undefined;
  /** Post to Mattermost in the report step. */
  readonly notify?: boolean | undefined;
  readonly previousPackages?: string | undefined;
  readonly from?: StepName | undefined;
  readonly to?: StepName | undefined;
  readonly dryRun?: boolean | undefined;
  /** Remove a stale output directory from an earlier run instead of refusing to start. */
  readonly clean?: boolean | undefined;
  /** Packer executable; default `packer` on PATH. */
  readonly packer?: string | undefined;
  readonly buildTimeoutMs?: number | undefined;
  /** Write an SBOM (CycloneDX) beside the image and publish it. */
  readonly sbom?: boolean | undefined;
  /** The test step (the boot test): on unless `enabled: false` (`--no-boot-test`). */
  readonly bootTest?: BootTestStepOptions | undefined;
  /** A policy file adding to or overriding the leg's built-in acceptance policy (verify step). */
  readonly policyFile?: string | undefined;
  /** Accepted failures of the acceptance policy (verify step). */
  readonly waiversFile?: string | undefined;
  /** Also run file-integrity (every packaged file's size and digest) in the verify step. */
  readonly deep?: boolean | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /**
   * Aborted when the run must stop (the CLI aborts it on SIGINT, SIGTERM or SIGHUP with an
   * InterruptedError): the running step's children get the signal, and the run records where it stopped.
   */
  readonly signal?: AbortSignal | undefined;
  /** Progress and log lines (default: dropped; the CLI prints them on stderr). */
  readonly log?: ((line: string) => void) | undefined;
  /** Progress of long reads and uploads (the CLI draws it on a TTY). */
  readonly onProgress?: ((p: ProgressEvent) => void) | undefined;
}

export interface BootTestStepOptions {
  readonly enabled?: boolean | undefined;
  readonly timeoutSeconds?: number | undefined;
  readonly boots?: number | undefined;
  readonly accelerator?: "auto" | "kvm" | "tcg" | undefined;
  readonly qemu?: string | undefined;
  /** Packages `rpm -q` must find in the running guest. */
  readonly requiredPackages?: readonly string[] | undefined;
}

/** What earlier steps produced, read by later ones and kept in the manifest. */
export interface ProgressEvent {
  readonly name: string;
  readonly phase: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface LegState {
  resolved?: ResolvedLeg;
  packerArgs?: string[];
  packerInit?: boolean;
  packerLog?: string;
  imagePath?: string;
  imageSize?: number;
  sha256?: string;
  /** The image's mtime when it was hashed: unchanged, the hash still describes it. */
  imageMtimeMs?: number;
  checksumPath?: string;
  verdict?: Verdict;
  packagesPath?: string;
  sbomPath?: string;
  published?: { store: string; kind: "s3" | "file" | "none"; objects: PublishedObject[] };
  notification?: { delivered: boolean; error?: string };
  /** The rendered job summary (the CLI prints it when it did not go to $GITHUB_STEP_SUMMARY). */
  summary?: string;
}

export interface LegContext {
  readonly options: RunLegOptions;
  readonly leg: Leg;
  /** Where the leg's files live (output directory, state directory, early manifest, build log). */
  readonly paths: LegPaths;
  readonly timeStamp: string;
  readonly dateStamp: string;
  readonly state: LegState;
  readonly manifest: LegManifest;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal | undefined;
  log(line: string): void;
  warn(line: string): void;
  progress(p: ProgressEvent): void;
}

/** A step's record in the manifest is built from what it returns. */
export interface StepResult {
  readonly outputs?: Record<string, unknown>;
  /** `skipped` steps did nothing on purpose (e.g. publish with --store none). */
  readonly status?: "ok" | "skipped";
  /** A failure that still lets later reporting run (a failed verification). */
  readonly failed?: string;
}

export interface Step {
  readonly name: StepName;
  run(ctx: LegContext): Promise<StepResult>;
  /** The commands and keys the step would use, for --dry-run. */
  describe(ctx: LegContext): string[];
}
