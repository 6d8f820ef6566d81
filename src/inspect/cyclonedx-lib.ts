/**
 * @cyclonedx/cyclonedx-library, loaded on first use: it is large, and modules that merely import the
 * SBOM code (the CLI, the pipeline) should not pay for it at start-up. The package is CommonJS, so a
 * synchronous require keeps buildSbom synchronous.
 */
import { createRequire } from "node:module";

type CycloneDx = typeof import("@cyclonedx/cyclonedx-library");

let lib: CycloneDx | undefined;

export function cyclonedxLibrary(): CycloneDx {
  lib ??= createRequire(import.meta.url)("@cyclonedx/cyclonedx-library") as CycloneDx;
  return lib;
}
