/**
 * Where one leg's files live. Packer writes the output directory inside the templates directory; the
 * tool itself writes nothing else there: the manifest of a run that has no image yet and the build log
 * while Packer runs live in the leg's directory under the state directory, keyed by the templates
 * directory, until locate moves them beside the image.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Leg } from "../catalog/catalog.js";
import { resolveLeg } from "../resolve/resolve.js";
import { stateDir } from "../state.js";
import { outputDirOf } from "./packer.js";

export interface LegPaths {
  /** The output directory's name (`output-SOURCE`). */
  readonly outputDirName: string;
  /** Its absolute path: what the leg's lock guards. */
  readonly outputDir: string;
  readonly stateDir: string;
  /** The manifest while there is no image to put it beside. */
  readonly earlyManifest: string;
  /** Packer's log while it runs. */
  readonly buildLog: string;
}

/** `templatesDir` must be absolute. */
export function legPaths(templatesDir: string, leg: Leg, env: NodeJS.ProcessEnv = process.env): LegPaths {
  // The output directory does not depend on the release or the time stamp.
  const sample = resolveLeg(leg, leg.variant.startsWith("10-kitten") ? "10" : "0.0", "19700101000000");
  const outputDirName = outputDirOf(sample);
  const key = createHash("sha256").update(templatesDir).digest("hex").slice(0, 12);
  const dir = join(stateDir(env), "legs", `${outputDirName}-${key}`);
  return {
    outputDirName,
    outputDir: join(templatesDir, outputDirName),
    stateDir: dir,
    earlyManifest: join(dir, "manifest.json"),
    buildLog: join(dir, "packer.log"),
  };
}
