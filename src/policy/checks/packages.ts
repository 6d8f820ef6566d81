/** The package checks: required-packages, kernel, package-arch; all over the rpm database's records. */
import type { Observed } from "../../inspect/checks.js";
import { nevra } from "../../rpm/package.js";
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Evaluation, Finding, RuleMeta } from "../types.js";
import type { ImageView } from "../view.js";

/** One required package, or one of several (`anyOf`; then `name` labels the group, e.g. "a kernel"). */
export interface PackageRequirement extends RuleMeta {
  readonly name: string;
  readonly anyOf?: readonly string[];
}

export interface RequiredPackagesRule extends CheckRule {
  readonly packages?: readonly PackageRequirement[];
}

interface PackageFact {
  readonly name: string;
  readonly arch: string | null;
  readonly nevra: string;
}

function packageFacts(view: ImageView): Promise<Observed<readonly PackageFact[]>> {
  const p = view.packages;
  return Promise.resolve(
    p.ok ? { ok: true, value: p.value.map((x) => ({ name: x.name, arch: x.arch, nevra: nevra(x) })) } : p,
  );
}

const unreadable = (error: string): Evaluation => ({
  status: "skip",
  message: `not checked: the rpm database cannot be read (${error})`,
});

/** The requirement's package names: `anyOf`, else its name. */
export function requirementNames(r: PackageRequirement): readonly string[] {
  return r.anyOf && r.anyOf.length > 0 ? r.anyOf : [r.name];
}

export function evaluateRequiredPackages(
  installed: ReadonlySet<string>,
  rule: RequiredPackagesRule,
): Evaluation {
  const required = rule.packages ?? [];
  const findings: Finding[] = [];
  for (const r of required) {
    const names = requirementNames(r);
    if (names.some((n) => installed.has(n))) continue;
    const what = names.length > 1 ? `${r.name} (one of ${names.join(", ")})` : r.name;
    findings.push({ subject: r.name, message: `${what} is not installed: ${r.reason ?? "required"}` });
  }
  const expected = required.map((r) => r.name).join(", ");
  return verdictOf(findings, `all ${required.length} required packages are installed`, { expected });
}

export const requiredPackages = defineCheck<RequiredPackagesRule, Observed<readonly PackageFact[]>>({
  name: "required-packages",
  summary: "the image type's package set is installed; every missing package is named",
  lists: { packages: "name" },
  gather: packageFacts,
  evaluate(facts, rule) {
    if (!facts.ok) return unreadable(facts.error);
    return evaluateRequiredPackages(new Set(facts.value.map((p) => p.name)), rule);
  },
});

export interface KernelFlavour extends RuleMeta {
  /** The package that marks this flavour, e.g. kernel-core, kernel-64k-core. */
  readonly package: string;
  readonly kernel: "standard" | "64k";
}

export interface KernelRule extends CheckRule {
  readonly flavours?: readonly KernelFlavour[];
}

export const kernel = defineCheck<KernelRule, Observed<readonly PackageFact[]>>({
  name: "kernel",
  summary: "64k legs have kernel-64k-core and no kernel-core; other legs the reverse",
  lists: { flavours: "package" },
  gather: packageFacts,
  evaluate(facts, rule, leg) {
    if (!facts.ok) return unreadable(facts.error);
    const installed = new Set(facts.value.map((p) => p.name));
    const flavours = rule.flavours ?? [];
    const wanted = flavours.filter((f) => f.kernel === leg.kernel).map((f) => f.package);
    const unwanted = flavours.filter((f) => f.kernel !== leg.kernel).map((f) => f.package);
    const findings: Finding[] = [];
    for (const p of wanted) {
      if (!installed.has(p))
        findings.push({ subject: p, message: `${p} is not installed (a ${leg.kernel} leg)` });
    }
    for (const p of unwanted) {
      if (installed.has(p))
        findings.push({ subject: p, message: `${p} is installed on a ${leg.kernel} leg` });
    }
    const found = [...wanted, ...unwanted].filter((p) => installed.has(p)).join(", ") || "no kernel";
    return verdictOf(findings, `${wanted.join(", ")} installed, no ${unwanted.join(" or ")}`, {
      expected: wanted.join(", "),
      found,
    });
  },
});

export interface PackageArchRule extends CheckRule {
  /** ARCH values accepted besides the leg's own (default: noarch). */
  readonly alsoAllowed?: readonly string[];
}

export const packageArch = defineCheck<PackageArchRule, Observed<readonly PackageFact[]>>({
  name: "package-arch",
  summary: "every installed package's ARCH is the leg's or noarch (packages without ARCH are exempt)",
  gather: packageFacts,
  evaluate(facts, rule, leg) {
    if (!facts.ok) return unreadable(facts.error);
    const allowed = [leg.arch, ...(rule.alsoAllowed ?? ["noarch"])];
    const findings: Finding[] = facts.value
      .filter((p) => p.arch !== null && !allowed.includes(p.arch))
      .map((p) => ({ subject: p.name, message: `${p.nevra} is built for ${p.arch}` }));
    return verdictOf(findings, `every package is ${allowed.join(" or ")}`, { expected: allowed.join(", ") });
  },
});
