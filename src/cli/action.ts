/** The one place where errors become messages and exit codes. */
import { CommanderError } from "commander";
import { EXIT_FAILURE, EXIT_USAGE, InterruptedError, isCloudImagesError } from "../errors.js";
import { interruption, unwindsOnInterrupt } from "./interrupts.js";
import { safeLine } from "./output.js";

export function reportError(e: unknown): number {
  const interrupted = interruption();
  if (e instanceof InterruptedError || interrupted) {
    // What was stopped and where, in one line; the exit status is the signal's.
    const message =
      e instanceof InterruptedError ? e.message : `${interrupted!.message}: ${(e as Error)?.message ?? e}`;
    process.stderr.write(`cloud-images: ${oneLine(message)}\n`);
    return (e instanceof InterruptedError ? e : interrupted!).exitCode;
  }
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

/** Messages may quote text from an image: one line, control characters escaped. */
function oneLine(s: string): string {
  return safeLine(s.replace(/\s*\n\s*/g, " "));
}

/**
 * Wraps a command action: its returned number (or 0) becomes the exit code, its errors are reported.
 * Sets process.exitCode instead of exiting so pending output is flushed. `unwinds`: the command watches
 * `interruptSignal()` and records or cleans up before it ends (else an interrupt ends it once its
 * children are gone).
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | undefined> | number | undefined,
  options: { unwinds?: boolean } = {},
) {
  return async (...args: A): Promise<void> => {
    if (options.unwinds) unwindsOnInterrupt();
    try {
      process.exitCode = (await fn(...args)) ?? 0;
    } catch (e) {
      process.exitCode = reportError(e);
    }
    const interrupted = interruption();
    if (interrupted && process.exitCode !== interrupted.exitCode) {
      process.stderr.write(`cloud-images: ${interrupted.message}\n`);
      process.exitCode = interrupted.exitCode;
    }
  };
}
