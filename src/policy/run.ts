/** The policy as verify's extra checks: the image's tree opened from its root, then every check run. */
import type { Observations } from "../inspect/checks.js";
import { openImageTree } from "../inspect/image-tree.js";
import type { OpenedRoot } from "../inspect/root.js";
import type { CheckResult } from "../inspect/verdict.js";
import type { ExtraChecks } from "../inspect/verify.js";
import { timedAsync } from "../phases.js";
import { type RunPolicyOptions, runPolicy } from "./engine.js";
import type { Policy, PolicyLeg } from "./types.js";
import type { ImageView } from "./view.js";

/** Opens every filesystem of the image where its fstab mounts it, beside what verify already read. */
export async function imageView(root: OpenedRoot, observations: Observations): Promise<ImageView> {
  const image = await openImageTree(root);
  const p = observations.packages;
  const packages: ImageView["packages"] =
    p.ok && p.value.packages
      ? { ok: true, value: p.value.packages }
      : { ok: false, error: p.ok ? "the backend read no package records" : p.error };
  return {
    tree: image.tree,
    image,
    opened: root,
    packages,
    ...(root.image.qcow2 ? { qcow2: root.image.qcow2 } : {}),
  };
}

/** The policy's checks, in the form verifyImage runs them (`extraChecks`). */
export function policyChecks(policy: Policy, leg: PolicyLeg, options: RunPolicyOptions = {}): ExtraChecks {
  return async (root, observations): Promise<CheckResult[]> =>
    runPolicy(await timedAsync("policy.view", () => imageView(root, observations)), policy, leg, options);
}
