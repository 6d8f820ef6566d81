/** The SBOM of a disk image: its installed packages, described with its os-release. */
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { CloudImagesError } from "../errors.js";
import { sha256File } from "../files.js";
import { parseOsRelease } from "./os-release.js";
import { openImageRoot } from "./root.js";
import { readImagePackages } from "./rpmdb.js";
import { buildSbom, type SbomFormat, sourceDateEpoch } from "./sbom.js";

export interface ImageSbomOptions {
  /** Read this partition instead of the OS root. */
  readonly partition?: number | undefined;
  /** Include the image file's SHA-256 (reads the whole file). */
  readonly hash?: boolean | undefined;
  /** Bytes of the image hashed so far, of its size (with `hash`). */
  readonly onHashProgress?: ((bytesDone: number, bytesTotal: number) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export async function sbomForImage(
  image: string,
  format: SbomFormat,
  options: ImageSbomOptions = {},
): Promise<Record<string, unknown>> {
  sourceDateEpoch(); // a malformed SOURCE_DATE_EPOCH is bad input: refuse it before any work
  const root = await openImageRoot(
    image,
    options.partition !== undefined ? { partition: options.partition } : {},
  );
  let osRelease: Record<string, string> = {};
  let packages: Awaited<ReturnType<typeof readImagePackages>>["packages"];
  try {
    packages = (await readImagePackages(root)).packages;
    try {
      osRelease = parseOsRelease((await root.paths.readFile("/etc/os-release", 1 << 20)).toString());
    } catch (e) {
      if (!(e instanceof CloudImagesError)) throw e;
    }
  } finally {
    await root.close();
  }
  return buildSbom(
    packages,
    {
      name: basename(image),
      release: osRelease.VERSION_ID,
      distroId: osRelease.ID,
      prettyName: osRelease.PRETTY_NAME,
      imageSha256: options.hash ? await hashImage(image, options) : undefined,
    },
    format,
  );
}

async function hashImage(image: string, options: ImageSbomOptions): Promise<string> {
  const total = (await stat(image)).size;
  return sha256File(image, (done) => options.onHashProgress?.(done, total), options.signal);
}
