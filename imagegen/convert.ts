/** raw → qcow2, plain or compressed (zlib, zstd), with qemu-img as Packer's QEMU builder does. */
import { run } from "./exec.js";
import type { ImageFormat } from "./spec.js";

export const FILE_NAMES: Record<ImageFormat, string> = {
  raw: "disk.raw",
  qcow2: "disk.qcow2",
  "qcow2-zlib": "disk-zlib.qcow2",
  "qcow2-zstd": "disk-zstd.qcow2",
};

export function convertArgs(format: Exclude<ImageFormat, "raw">, raw: string, out: string): string[] {
  const compress = {
    qcow2: [],
    "qcow2-zlib": ["-c"],
    "qcow2-zstd": ["-c", "-o", "compression_type=zstd"],
  }[format];
  return ["convert", "-f", "raw", "-O", "qcow2", ...compress, raw, out];
}

export async function convert(format: Exclude<ImageFormat, "raw">, raw: string, out: string): Promise<void> {
  await run("qemu-img", convertArgs(format, raw, out));
}
