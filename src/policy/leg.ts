/** The leg a policy runs for, from the catalog (type, variant, arch), and the leg's required packages. */
import { isImageType, parseVariant } from "../catalog/catalog.js";
import { UsageError } from "../errors.js";
import { policyFor } from "./builtin.js";
import { checkNamed } from "./checks/index.js";
import { type PackageRequirement, requirementNames } from "./checks/packages.js";
import { applicableRule } from "./engine.js";
import type { Policy, PolicyLeg } from "./types.js";

export interface CatalogLeg {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
}

/** `gencloud 10-v2 x86_64` → { type gencloud, version 10, major 10, arch x86_64_v2, kernel standard }. */
export function policyLeg(leg: CatalogLeg): PolicyLeg {
  const v = parseVariant(leg.variant);
  if (!v) throw new UsageError(`invalid variant "${leg.variant}" (valid: e.g. 9, 10-v2, 9-64k, 10-kitten)`);
  return {
    type: leg.type,
    version: v.version,
    major: v.version === "10-kitten" ? "10" : v.version,
    arch: v.suffix === "v2" ? "x86_64_v2" : leg.arch,
    kernel: v.suffix === "64k" ? "64k" : "standard",
  };
}

/** The built-in policy of a catalog leg's image type. */
export function legPolicy(leg: CatalogLeg): Policy {
  if (!isImageType(leg.type)) throw new UsageError(`unknown image type "${leg.type}"`);
  return policyFor(leg.type);
}

export interface RequiredPackage {
  /** The package, or a label for a group (`a kernel`). */
  readonly name: string;
  /** Any one of these satisfies the requirement. */
  readonly anyOf: readonly string[];
  readonly reason: string;
  readonly source: string;
}

/**
 * The packages a leg's image must have installed: the `required-packages` rule of its type's policy
 * (or of `policy`), for the leg's version and arch. The boot test's live `required-packages` check
 * uses the same set.
 */
export function requiredPackages(leg: CatalogLeg, policy: Policy = legPolicy(leg)): RequiredPackage[] {
  const rule = policy.checks["required-packages"];
  const check = checkNamed("required-packages");
  if (!rule || !check || rule.severity === "off") return [];
  const items = (applicableRule(check, rule, policyLeg(leg)).packages ?? []) as PackageRequirement[];
  return items.map((r) => ({
    name: r.name,
    anyOf: requirementNames(r),
    reason: r.reason ?? "",
    source: r.source ?? "",
  }));
}
