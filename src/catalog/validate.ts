/** Turns user-supplied strings into catalog values, or a UsageError naming what is valid. */
import { NotInCatalogError, UsageError } from "../errors.js";
import {
  ARCHES,
  type Arch,
  IMAGE_TYPES,
  type ImageType,
  isArch,
  isImageType,
  isVersion,
  isWorkflowId,
  LEGS,
  type Leg,
  parseVariant,
  VERSIONS,
  type Version,
  WORKFLOW_IDS,
  WORKFLOWS,
  type WorkflowId,
} from "./catalog.js";

const list = (xs: readonly string[]) => xs.join(", ");

export function requireImageType(s: string): ImageType {
  if (isImageType(s)) return s;
  throw new UsageError(`unknown image type "${s}" (valid: ${list(IMAGE_TYPES)})`);
}

export function requireArch(s: string): Arch {
  if (isArch(s)) return s;
  throw new UsageError(`unknown arch "${s}" (valid: ${list(ARCHES)})`);
}

export function requireVersion(s: string): Version {
  if (isVersion(s)) return s;
  throw new UsageError(`unknown version "${s}" (valid: ${list(VERSIONS)})`);
}

export function requireWorkflow(s: string): WorkflowId {
  if (isWorkflowId(s)) return s;
  throw new UsageError(`unknown workflow "${s}" (valid: ${list(WORKFLOW_IDS)})`);
}

/** A version the workflow offers (OCI has no Kitten). */
export function requireWorkflowVersion(workflow: WorkflowId, s: string): Version {
  const version = requireVersion(s);
  const offered = WORKFLOWS[workflow].versions;
  if (!offered.includes(version)) {
    throw new NotInCatalogError(
      `workflow ${workflow} does not build version ${version} (valid: ${list(offered)})`,
    );
  }
  return version;
}

/** A leg that exists in the catalog; the message lists the variants the type has on that arch. */
export function requireLeg(type: string, variant: string, arch: string): Leg {
  const t = requireImageType(type);
  const a = requireArch(arch);
  if (!parseVariant(variant)) {
    throw new UsageError(
      `unknown variant "${variant}" (valid: a version ${list(VERSIONS)}, optionally followed by -v2 or -64k)`,
    );
  }
  const valid = LEGS[t][a];
  if (!valid.includes(variant)) {
    const choices = valid.length > 0 ? list(valid) : "none";
    throw new NotInCatalogError(
      `${t} ${variant} ${a} is not a leg in the catalog (${t} ${a} variants: ${choices})`,
    );
  }
  return { type: t, variant, arch: a };
}
