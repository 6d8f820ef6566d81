/** Small file helpers shared by the layers: atomic writes and streaming SHA-256. */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CloudImagesError } from "./errors.js";

/** Writes through a temporary name in the same directory and a rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data, { flag: "wx" });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new CloudImagesError(`cannot write ${path}: ${code}`, { cause: e });
  }
}

/** SHA-256 (hex) of a file, read once in 4 MiB chunks; `onProgress` gets the bytes hashed so far. */
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
