/** The legs one workflow run fans out to, per arch, as the workflows' matrices consume them. */
import {
  ARCHES,
  type Arch,
  type ImageType,
  LEGS,
  parseVariant,
  type Variant,
  type Version,
  WORKFLOWS,
  type WorkflowId,
} from "./catalog.js";

export interface MatrixEntry {
  readonly type: ImageType;
  readonly variant: Variant;
}

export type Matrix = Record<Arch, MatrixEntry[]>;

/**
 * Legs of `workflow` for `version` (its variants included: `10` gives `10`, `10-v2`, `10-64k`).
 * Without self-hosted runners there are no aarch64 legs.
 */
export function buildMatrix(workflow: WorkflowId, version: Version, selfHosted: boolean): Matrix {
  const legsFor = (arch: Arch): MatrixEntry[] =>
    WORKFLOWS[workflow].types.flatMap((type) =>
      LEGS[type][arch]
        .filter((variant) => parseVariant(variant)?.version === version)
        .map((variant) => ({ type, variant })),
    );
  const matrix = Object.fromEntries(ARCHES.map((arch) => [arch, legsFor(arch)])) as Matrix;
  if (!selfHosted) matrix.aarch64 = [];
  return matrix;
}
