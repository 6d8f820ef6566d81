/** The one place where errors become messages and exit codes. */
import { CommanderError } from "commander";
import { EXIT_FAILURE, EXIT_USAGE, isCloudImagesError } from "../errors.js";

export function reportError(e: unknown): number {
  if (isCloudImagesError(e)) {
    process.stderr.write(`cloud-images: error: ${oneLine(e.message)}\n`);
    if (process.env.CLOUD_IMAGES_DEBUG && e.cause) process.stderr.write(`${String(e.cause)}\n`);
    return e.exitCode;
  }
  if (e instanceof CommanderError) {
    // Commander already printed its message; help and version requests are not errors.
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  const err = e as NodeJS.ErrnoException;
  process.stderr.write(`cloud-images: internal error: ${oneLine(err?.message ?? String(e))}\n`);
  if (process.env.CLOUD_IMAGES_DEBUG && err?.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT_FAILURE;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

/**
 * Wraps a command action: its returned number (or 0) becomes the exit code, its errors are reported.
 * Sets process.exitCode instead of exiting so pending output is flushed.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | undefined> | number | undefined,
) {
  return async (...args: A): Promise<void> => {
    try {
      process.exitCode = (await fn(...args)) ?? 0;
    } catch (e) {
      process.exitCode = reportError(e);
    }
  };
}
