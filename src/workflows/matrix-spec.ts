/**
 * How one workflow's job matrix for one arch is written: a `variant` dimension looked up by
 * `inputs.version_major`, a `subtype` dimension when the workflow builds several image types, and
 * `exclude` entries for (type, variant) pairs of that product the catalog does not build.
 */
import type { Arch, ImageType, Variant, Version, WorkflowId } from "../catalog/catalog.js";
import { WORKFLOWS } from "../catalog/catalog.js";
import { buildMatrix } from "../catalog/matrix.js";

export interface ExcludedPair {
  readonly subtype: ImageType;
  readonly variant: Variant;
}

export interface ArchMatrixSpec {
  readonly arch: Arch;
  readonly types: readonly ImageType[];
  /** Variants of every offered version, in catalog order; empty when the version has no leg here. */
  readonly variantsByVersion: ReadonlyMap<Version, readonly Variant[]>;
  readonly exclude: readonly ExcludedPair[];
  /** Offered versions with at least one leg on this arch. */
  readonly versionsWithLegs: readonly Version[];
  /** True when every offered version has a leg here (no job condition needed). */
  readonly everyVersion: boolean;
}

export function archMatrixSpec(workflow: WorkflowId, arch: Arch): ArchMatrixSpec {
  const info = WORKFLOWS[workflow];
  const variantsByVersion = new Map<Version, Variant[]>();
  const exclude: ExcludedPair[] = [];
  for (const version of info.versions) {
    const legs = buildMatrix(workflow, version, true)[arch];
    const variants = [...new Set(legs.map((leg) => leg.variant))];
    variantsByVersion.set(version, variants);
    for (const subtype of info.types) {
      for (const variant of variants) {
        if (!legs.some((leg) => leg.type === subtype && leg.variant === variant)) {
          exclude.push({ subtype, variant });
        }
      }
    }
  }
  const versionsWithLegs = info.versions.filter((v) => (variantsByVersion.get(v) ?? []).length > 0);
  return {
    arch,
    types: info.types,
    variantsByVersion,
    exclude,
    versionsWithLegs,
    everyVersion: versionsWithLegs.length === info.versions.length,
  };
}
