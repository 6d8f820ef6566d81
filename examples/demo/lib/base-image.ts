/** The demo's base disk: an AlmaLinux 9.6 x86_64-like qcow2 from the project's image generator. */
import { copyFileSync, renameSync, rmSync } from "node:fs";
import { type BuiltImage, buildImage, type ImageSpec } from "../../../imagegen/index.js";
import { sha256File } from "../../../src/files.js";

/** GPT in the AlmaLinux x86_64 layout (p4 = XFS root); 3G leaves ~1.7 GiB for the root after p1-p3. */
export const DEMO_BASE_SPEC: ImageSpec = {
  arch: "x86_64",
  el: "9",
  release: "9.6",
  rootfs: "xfs",
  formats: ["qcow2"],
  diskSize: "3G",
};

export interface DemoBase {
  /** The copy the template boots from. */
  path: string;
  /** Hex SHA-256 of that copy (Packer's iso_checksum). */
  sha256: string;
  image: BuiltImage;
}

/**
 * Builds (or takes from the imagegen cache; building needs root) the base image and copies it to `dest`.
 * A copy, not a link: the cache prunes entries made by older generator source.
 */
export async function prepareDemoBase(dest: string, log?: (line: string) => void): Promise<DemoBase> {
  const image = await buildImage(DEMO_BASE_SPEC, log ? { log } : {});
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    copyFileSync(image.paths.qcow2!, tmp);
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path: dest, sha256: await sha256File(dest), image };
}
