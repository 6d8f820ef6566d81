/**
 * Typed errors. Every error the library throws on purpose is a CloudImagesError carrying a one-line,
 * user-facing message and the process exit code the CLI should use; only the CLI turns them into exits.
 */

export const EXIT_OK = 0;
/** A check, a step or an operation failed (corrupt image, failed verification, failed upload...). */
export const EXIT_FAILURE = 1;
/** Bad input: unknown option values, a leg not in the catalog, malformed stamps, unusable mirrors. */
export const EXIT_USAGE = 2;

export class CloudImagesError extends Error {
  /** The process exit code the CLI uses for this kind of error. */
  readonly exitCode: number = EXIT_FAILURE;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid arguments or values given by the user. */
export class UsageError extends CloudImagesError {
  override readonly exitCode: number = EXIT_USAGE;
}

/** A (type, variant, arch) combination that the catalog does not build. */
export class NotInCatalogError extends UsageError {}

/** A release mirror that cannot be reached or does not serve an RPM. */
export class MirrorError extends UsageError {}

/** A Packer templates directory without templates, or a template that does not parse. */
export class PackerTemplateError extends UsageError {}

/** A disk image, partition table or filesystem that is corrupt, truncated or unsupported. */
export class ImageFormatError extends CloudImagesError {}

/** A path that does not exist inside an image (or a symlink loop on the way to it). */
export class PathNotFoundError extends CloudImagesError {}

/** An RPM header or rpm database that cannot be read. */
export class RpmFormatError extends CloudImagesError {}

/** A required external tool or system facility is missing (packer, qemu, /dev/kvm...). */
export class EnvironmentError extends CloudImagesError {}

/** One step of a build leg failed; names the step. */
export class StepFailedError extends CloudImagesError {
  readonly step: string;
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super(`${step}: ${message}`, options);
    this.step = step;
  }
}

/** Publishing to an object store failed; says what was and was not published. */
export class PublishError extends CloudImagesError {
  /** Per-object outcome up to the failure (a PublishResult from src/publish), when known. */
  readonly result: unknown;
  constructor(message: string, options?: { cause?: unknown; result?: unknown }) {
    super(message, options);
    this.result = options?.result;
  }
}

/** Sending a notification failed. */
export class NotifyError extends CloudImagesError {}

export function isCloudImagesError(e: unknown): e is CloudImagesError {
  return e instanceof CloudImagesError;
}
