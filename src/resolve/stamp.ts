/** The run's UTC time stamp (YYYYMMDDhhmmss) and date stamp (YYYYMMDD), shared by every leg. */
import { UsageError } from "../errors.js";
import { printable } from "../text.js";

export interface Stamps {
  readonly timeStamp: string;
  readonly dateStamp: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export function stampsFor(date: Date): Stamps {
  const timeStamp =
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds());
  return { timeStamp, dateStamp: timeStamp.slice(0, 8) };
}

/**
 * Validates a user-given time stamp: exactly 14 digits forming a real UTC date and time.
 * The value reaches shell steps and object keys, so anything else is refused outright.
 */
export function parseTimeStamp(s: string): Stamps {
  if (!/^[0-9]{14}$/.test(s)) {
    throw new UsageError(`invalid time stamp "${printable(s)}" (valid: 14 digits YYYYMMDDhhmmss, UTC)`);
  }
  const [y, mo, d, h, mi, se] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(s.slice(i, i + (k === 0 ? 4 : 2))));
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
  if (stampsFor(date).timeStamp !== s || y! < 1970) {
    throw new UsageError(`invalid time stamp "${s}": not a real UTC date and time (valid: YYYYMMDDhhmmss)`);
  }
  return { timeStamp: s, dateStamp: s.slice(0, 8) };
}
