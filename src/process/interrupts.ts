/**
 * SIGINT, SIGTERM and SIGHUP for the whole tool: the first one is forwarded to every child's process
 * group (SIGKILL follows after the grace period), and aborts `signal` with an InterruptedError so the
 * work in progress can unwind and record where it stopped. A second one kills every child group at once
 * and exits (the watchdog still ends whatever is left).
 */
import { InterruptedError } from "../errors.js";
import { liveChildren } from "./children.js";
import { signalGroup } from "./proc.js";

export const TERMINATION_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export interface Interrupts {
  /** Aborted (reason: InterruptedError) at the first signal. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: InterruptedError | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

export interface InterruptOptions {
  /** Called at the first signal, after the children were signalled. */
  readonly onInterrupt?: ((interruption: InterruptedError) => void) | undefined;
  /** Called at a second signal, after every child group got SIGKILL; default: exit 128 + the first signal. */
  readonly onSecond?: ((interruption: InterruptedError) => void) | undefined;
}

export function handleInterrupts(options: InterruptOptions = {}): Interrupts {
  const controller = new AbortController();
  let received: InterruptedError | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      for (const child of liveChildren()) signalGroup(child.pid, "SIGKILL");
      if (options.onSecond) options.onSecond(received);
      else process.exit(received.exitCode);
      return;
    }
    received = new InterruptedError(signal);
    for (const child of liveChildren()) void child.stop(signal);
    controller.abort(received);
    options.onInterrupt?.(received);
  };
  for (const s of TERMINATION_SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      for (const s of TERMINATION_SIGNALS) process.off(s, handler);
    },
  };
}
