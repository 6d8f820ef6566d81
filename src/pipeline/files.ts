/** Files a leg writes beside its image, all written atomically (temp file + rename). */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const sidecar = {
  checksum: (image: string) => `${image}.sha256sum`,
  packages: (image: string) => `${image}.txt`,
  sbom: (image: string) => `${image}.cdx.json`,
  manifest: (image: string) => `${image}.manifest.json`,
  packerLog: (image: string) => `${image}.packer.log`,
};

export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
