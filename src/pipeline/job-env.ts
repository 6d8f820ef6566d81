/**
 * The job environment upstream's shared action leaves behind, which its test and release actions read
 * (`env.IMAGE_FILE`, `env.RELEASE_STRING`…): set from one leg's run so those actions can follow ours.
 */
import { basename } from "node:path";
import type { LegState } from "./context.js";

export function upstreamJobEnv(state: LegState): Record<string, string> {
  const env: Record<string, string> = {};
  const r = state.resolved;
  if (r) {
    env.version_major = r.versionMajor;
    env.alma_arch = r.almaArch;
    env.IMAGE_TYPE = r.imageType;
    env.RELEASE = r.release;
    env.RELEASE_STRING = r.releaseString;
    env.RELEASE_PACKAGE = r.releasePackage;
    env.AWS_S3_PATH = r.s3Prefix;
  }
  if (state.imagePath) {
    env.IMAGE_FILE = state.imagePath;
    env.IMAGE_NAME = basename(state.imagePath);
  }
  return env;
}
