/**
 * The leg manifest: the build's receipt, written as NAME.manifest.json beside the image. Every step
 * records what it did; `report` renders summaries from it and `run --from` resumes from it.
 */
import { z } from "zod";
import { publishedObjectSchema } from "../publish/published-object.js";

export const STEP_NAMES = [
  "prepare",
  "build",
  "locate",
  "checksum",
  "verify",
  "test",
  "publish",
  "release",
  "report",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

const checkSchema = z.object({
  name: z.string(),
  status: z.enum(["pass", "fail", "warn", "skip"]),
  expected: z.string().optional(),
  found: z.string().optional(),
  message: z.string(),
});

export const verdictSchema = z.object({
  passed: z.boolean(),
  image: z.string(),
  checks: z.array(checkSchema),
  rootPartition: z.number().int().optional(),
  packageCount: z.number().int().optional(),
  packagesFile: z.string().optional(),
});

/** Where a directory's content came from, as git knows it (absent when it is not a checkout). */
export const gitSourceSchema = z.object({
  /** The `origin` remote's URL, without credentials. */
  repository: z.string().optional(),
  commit: z.string().optional(),
  /** The checked-out branch or tag, when known. */
  ref: z.string().optional(),
  /** Uncommitted changes were present. */
  dirty: z.boolean().optional(),
});
export type GitSource = z.infer<typeof gitSourceSchema>;

export const stepRecordSchema = z.object({
  name: z.enum(STEP_NAMES),
  /** `interrupted`: the tool got SIGINT, SIGTERM or SIGHUP during the step (see the manifest's `interrupted`). */
  status: z.enum(["ok", "failed", "skipped", "reused", "interrupted"]),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number().nonnegative(),
  /** Step-specific outputs (paths, sizes, checksums, commands) that later steps and `--from` reuse. */
  outputs: z.record(z.string(), z.unknown()).optional(),
  error: z.string().optional(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const legManifestSchema = z.object({
  schemaVersion: z.literal(1),
  leg: z.object({ type: z.string(), variant: z.string(), arch: z.string() }),
  resolved: z.object({
    packerSource: z.string(),
    packerBuilder: z.string(),
    outputMask: z.string(),
    s3Prefix: z.string(),
    versionMajor: z.string(),
    almaArch: z.string(),
    release: z.string(),
    releaseString: z.string(),
    releasePackage: z.string(),
    imageType: z.string(),
    rootPartition: z.number().int(),
    imageFormat: z.string(),
    rootFilesystem: z.string(),
  }),
  timeStamp: z.string(),
  dateStamp: z.string(),
  templatesDir: z.string().optional(),
  /** The commits the build came from: the Packer templates and this tool. */
  sources: z.object({ templates: gitSourceSchema.optional(), tool: gitSourceSchema.optional() }).optional(),
  /** Where the build ran: the GitHub Actions run, or this host. */
  builder: z
    .object({
      /** A URI: the workflow run's URL in GitHub Actions, else `urn:cloud-images:host:NAME`. */
      id: z.string(),
      /** The workflow file and ref that ran (GitHub Actions). */
      workflow: z.string().optional(),
      host: z.string().optional(),
    })
    .optional(),
  tools: z.record(z.string(), z.string()),
  image: z
    .object({
      name: z.string(),
      path: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string().optional(),
    })
    .optional(),
  verdict: verdictSchema.optional(),
  /** Offline tests (verification) and the boot test. */
  tests: z.object({
    offline: z.enum(["passed", "failed", "n/a"]),
    boot: z.enum(["passed", "failed", "n/a"]).optional(),
  }),
  /** The boot test's checks and timing (IMAGE.boot.json has everything). */
  bootTest: z
    .object({
      passed: z.boolean(),
      accelerator: z.enum(["kvm", "tcg"]),
      seconds: z.number().nonnegative(),
      checks: z.array(checkSchema),
      boots: z.array(
        z.object({
          index: z.number().int().positive(),
          phases: z.record(z.string(), z.number()),
          ended: z.string(),
        }),
      ),
      stoppedEarly: z.string().optional(),
    })
    .optional(),
  published: z
    .object({
      store: z.string(),
      /** `s3`/`file` for object stores, `artifact` when the files went to GitHub artifacts. */
      kind: z.enum(["s3", "file", "artifact", "none"]),
      objects: z.array(publishedObjectSchema),
    })
    .optional(),
  steps: z.array(stepRecordSchema),
  /** Set when the run was stopped by a signal: during which step, by which signal, when. */
  interrupted: z.object({ step: z.enum(STEP_NAMES), signal: z.string(), at: z.string() }).optional(),
});
export type LegManifest = z.infer<typeof legManifestSchema>;
