import { UsageError } from "../errors.js";

/** Splits `IMAGE:PATH` at the last `:/`; the image path itself may contain colons. */
export function splitImagePath(arg: string, defaultPath?: string): { image: string; path: string } {
  const at = arg.lastIndexOf(":/");
  if (at > 0) return { image: arg.slice(0, at), path: arg.slice(at + 1) };
  if (defaultPath !== undefined) return { image: arg, path: defaultPath };
  throw new UsageError(
    `expected IMAGE:PATH with an absolute PATH inside the image, got "${arg}" (e.g. disk.qcow2:/etc/os-release)`,
  );
}

export function parsePartitionOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,2}$/.test(value))
    throw new UsageError(`invalid partition number "${value}" (valid: 1-999)`);
  return Number(value);
}
