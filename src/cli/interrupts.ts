/**
 * SIGINT, SIGTERM and SIGHUP for every command: the children get the signal (then SIGKILL after the
 * grace period) and the tool exits 128 + the signal's number with one line. Commands that record or
 * clean up (run, publish) declare it and get the time to unwind through `interruptSignal()`; the others
 * exit as soon as their children are gone. A second signal exits at once.
 */
import type { InterruptedError } from "../errors.js";
import { DEFAULT_KILL_GRACE_MS, liveChildren } from "../process/children.js";
import { handleInterrupts, type Interrupts } from "../process/interrupts.js";

/** How long an unwinding command may take after the children's grace period before the tool exits anyway. */
const UNWIND_MS = 15_000;

let interrupts: Interrupts | undefined;
let unwinding = false;

export function installInterrupts(): void {
  interrupts ??= handleInterrupts({
    onInterrupt: (interruption) => {
      if (unwinding) {
        setTimeout(() => exitNow(interruption), DEFAULT_KILL_GRACE_MS + UNWIND_MS).unref();
        return;
      }
      void Promise.all(liveChildren().map((c) => c.result)).then(() => exitNow(interruption));
    },
    onSecond: (interruption) => {
      process.stderr.write(`cloud-images: ${interruption.signal} again: stopping at once\n`);
      process.exit(interruption.exitCode);
    },
  });
}

function exitNow(interruption: InterruptedError): void {
  process.stderr.write(`cloud-images: ${interruption.message}\n`);
  process.exit(interruption.exitCode);
}

/** The command about to run records or cleans up when interrupted (it watches `interruptSignal()`). */
export function unwindsOnInterrupt(): void {
  unwinding = true;
}

/** Aborted (reason: InterruptedError) at the first SIGINT, SIGTERM or SIGHUP. */
export function interruptSignal(): AbortSignal | undefined {
  return interrupts?.signal;
}

/** The signal that interrupted the tool, if one did. */
export function interruption(): InterruptedError | undefined {
  return interrupts?.received;
}
