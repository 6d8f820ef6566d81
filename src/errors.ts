/**
 * Typed errors. Every error the library throws on purpose is a CloudImagesError carrying a one-line,
 * user-facing message and the process exit code the CLI should use; only the CLI turns them into exits.
 */

import { constants } from "node:os";

/**
 * The exit codes of every command (the README's table). A signal that ends the tool gives 128 + its
 * number, as shells report it: 129 SIGHUP, 130 SIGINT, 143 SIGTERM.
 */
export const EXIT_OK = 0;
/** A check, a step or an operation failed (corrupt image, failed verification, failed upload...). */
export const EXIT_FAILURE = 1;
/**
 * Bad input: unknown options or option values, a missing or unreadable input file, an output location
 * that cannot take a file, a leg not in the catalog, malformed stamps, unusable mirrors.
 */
export const EXIT_USAGE = 2;
/** Another run holds the lock on the same leg output directory or store key. */
export const EXIT_BUSY = 3;
export const EXIT_SIGNAL_BASE = 128;

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

/** An input file that is missing, unreadable, or not a regular file (a FIFO, a device, a directory). */
export class InputFileError extends UsageError {}

/** Errno codes saying the output location itself cannot take a file: bad input, not a failed write. */
const UNWRITABLE_LOCATION = new Set([
  "EACCES",
  "EISDIR",
  "ELOOP",
  "ENAMETOOLONG",
  "ENOENT",
  "ENOTDIR",
  "ENXIO",
  "EPERM",
  "EROFS",
]);

/**
 * An output file that cannot be written. Exit 2 when the location is wrong (a missing or read-only
 * folder, a directory, a device, a FIFO without reader: `errno` of those, or none), 1 when the write
 * itself failed (a full disk, an I/O error).
 */
export class OutputFileError extends CloudImagesError {
  override readonly exitCode: number;
  constructor(message: string, errno: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = errno === undefined || UNWRITABLE_LOCATION.has(errno) ? EXIT_USAGE : EXIT_FAILURE;
  }
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

/** A program or firmware file the command needs is not installed; the message names the package. */
export class MissingDependencyError extends UsageError {}

/** A boot test that could not run to a verdict (QEMU would not start, the overlay could not be made). */
export class BootTestError extends CloudImagesError {}

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

/** Another run holds a lock this one needs; names the holder (pid, since when). */
export class LockedError extends CloudImagesError {
  override readonly exitCode: number = EXIT_BUSY;
}

/** The tool got SIGINT, SIGTERM or SIGHUP; names the signal (exit 128 + its number). */
export class InterruptedError extends CloudImagesError {
  override readonly exitCode: number;
  readonly signal: NodeJS.Signals;
  readonly at: Date;
  constructor(signal: NodeJS.Signals, message = `interrupted by ${signal}`, at = new Date()) {
    super(message);
    this.signal = signal;
    this.at = at;
    this.exitCode = EXIT_SIGNAL_BASE + (constants.signals[signal] ?? 0);
  }
}

/** A signing or attestation key that is missing, malformed, or locked with another passphrase. */
export class SigningKeyError extends UsageError {}

/** A release that does not verify: a signature, a checksum, a size or an attestation differs. */
export class VerificationFailedError extends CloudImagesError {}

/** Writing a release (checksums, signatures, attestations, index) to a store failed. */
export class ReleaseError extends CloudImagesError {}

/** Sending a notification failed. */
export class NotifyError extends CloudImagesError {}

export function isCloudImagesError(e: unknown): e is CloudImagesError {
  return e instanceof CloudImagesError;
}
