/** Streaming SHA-256 of a file, and the coreutils `.sha256sum` format. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";

export async function sha256File(path: string, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onProgress?.(bytes);
  }
  return hash.digest("hex");
}

/** `<hex>  <name>\n`, as `sha256sum NAME` prints it in the file's directory. */
export function sha256sumLine(hex: string, path: string): string {
  return `${hex}  ${basename(path)}\n`;
}
