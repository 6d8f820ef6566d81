import { UsageError } from "../errors.js";

/** A whole-number option value (--boots, --cpus, --memory…), or bad input naming the flag. */
export function wholeNumber(flag: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`invalid ${flag} "${value}" (valid: a whole number)`);
  return Number(value);
}
