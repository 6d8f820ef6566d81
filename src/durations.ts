/**
 * Durations given by users (timeouts in seconds or minutes), checked against what a timer can hold:
 * Node's setTimeout fires at once for anything above 2^31 - 1 ms (about 24.8 days), so a huge timeout
 * would stop a build after 1 ms. Every timeout option parses through here.
 */
import { UsageError } from "./errors.js";

/** The longest delay a Node timer keeps (ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_MS = { seconds: 1000, minutes: 60_000 } as const;

export interface DurationSpec {
  /** The option as the user typed it, for the message (`--build-timeout`). */
  readonly flag: string;
  readonly unit: keyof typeof UNIT_MS;
  /** Smallest value in `unit` (default 1). */
  readonly min?: number;
  /** Largest value in `unit`; never above what a timer holds. */
  readonly max?: number;
  /** Allow a decimal fraction (`2.5` seconds). */
  readonly fractions?: boolean;
}

/** The longest whole number of `unit` a timer holds. */
export function maxTimerValue(unit: keyof typeof UNIT_MS): number {
  return Math.floor(MAX_TIMER_MS / UNIT_MS[unit]);
}

/** Parses `text` as a number of `spec.unit`; returns milliseconds; exit 2 naming the valid range. */
export function parseDuration(text: string, spec: DurationSpec): number {
  const min = spec.min ?? 1;
  const max = Math.min(spec.max ?? Number.POSITIVE_INFINITY, maxTimerValue(spec.unit));
  const pattern = spec.fractions ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  const value = Number(text);
  if (!pattern.test(text) || !(value >= min) || value > max) {
    const shown = JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}…` : text);
    const what = spec.fractions ? spec.unit : `whole ${spec.unit}`;
    throw new UsageError(`invalid ${spec.flag} ${shown} (valid: ${what} from ${min} to ${max})`);
  }
  return Math.round(value * UNIT_MS[spec.unit]);
}

/** Refuses a delay a timer cannot hold (library callers passing milliseconds directly). */
export function checkTimerMs(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new UsageError(`${what} of ${ms} ms is out of range (valid: 0 to ${MAX_TIMER_MS} ms)`);
  }
  return ms;
}
