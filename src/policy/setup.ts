/**
 * Setting up the policy a verification runs: the leg's built-in policy, a --policy file on top, the
 * waivers; the files are read and checked first, so bad input stops the run before anything is written.
 */
import { isImageType } from "../catalog/catalog.js";
import type { ExtraChecks } from "../inspect/verify.js";
import { policyFor } from "./builtin.js";
import { policyLeg } from "./leg.js";
import { policyChecks } from "./run.js";
import type { Policy, PolicyLeg, Waiver } from "./types.js";

export interface PolicySetupOptions {
  /** The catalog leg; without it only a --policy file's checks run. */
  readonly leg?: { readonly type: string; readonly variant: string; readonly arch: string } | undefined;
  /** The package ARCH when there is no catalog leg. */
  readonly arch?: string | undefined;
  /** The point release (its major version feeds `when` conditions) when there is no catalog leg. */
  readonly release?: string | undefined;
  readonly policyFile?: string | undefined;
  readonly waiversFile?: string | undefined;
  readonly deep?: boolean | undefined;
  /** Progress of the checks (deep runs read every packaged file). */
  readonly onCheck?: ((name: string) => void) | undefined;
}

export interface PolicySetup {
  readonly policy: Policy;
  readonly leg: PolicyLeg;
  readonly waivers: readonly Waiver[];
  readonly extraChecks: ExtraChecks;
}

/** The policy to run, or null when there is none (no catalog leg and no --policy file). */
export async function setupPolicy(options: PolicySetupOptions): Promise<PolicySetup | null> {
  const files = options.policyFile !== undefined || options.waiversFile !== undefined;
  // The file parser (yaml, zod) loads only when there are files to read.
  const parser = files ? await import("./policy-file.js") : undefined;
  const doc = options.policyFile !== undefined ? await parser!.loadPolicyFile(options.policyFile) : undefined;
  const waivers = options.waiversFile !== undefined ? await parser!.loadWaiversFile(options.waiversFile) : [];
  const type = options.leg && isImageType(options.leg.type) ? options.leg.type : undefined;
  if (type === undefined && doc === undefined) return null;
  const policy = policyFor(type, doc ? { name: options.policyFile!, doc } : undefined);
  const leg: PolicyLeg = options.leg
    ? policyLeg(options.leg)
    : {
        arch: options.arch ?? "",
        kernel: "standard",
        ...(options.release !== undefined ? { major: options.release.split(".")[0]! } : {}),
      };
  const run = {
    deep: options.deep ?? false,
    waivers,
    ...(options.onCheck ? { onCheck: options.onCheck } : {}),
  };
  return { policy, leg, waivers, extraChecks: policyChecks(policy, leg, run) };
}
