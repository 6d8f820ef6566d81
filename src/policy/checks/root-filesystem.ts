/** root-filesystem: the root filesystem has the type the image type is built with. */
import { defineCheck } from "../check.js";
import type { CheckRule } from "../types.js";

export interface RootFilesystemRule extends CheckRule {
  /** xfs or ext4. */
  readonly filesystem?: string;
}

interface RootFacts {
  readonly filesystem: string;
  readonly where: string;
}

export const rootFilesystem = defineCheck<RootFilesystemRule, RootFacts>({
  name: "root-filesystem",
  summary: "the root filesystem is xfs (gencloud, azure, oci, opennebula) or ext4 (gencloud_ext4)",
  gather: async (view) => {
    const v = view.image.rootVolume;
    return {
      filesystem: v.filesystem,
      where: v.partition === null ? "the whole disk" : `partition ${v.partition}`,
    };
  },
  evaluate(facts, rule) {
    const expected = rule.filesystem ?? "xfs";
    const base = { expected, found: facts.filesystem };
    if (facts.filesystem === expected) {
      return { ...base, status: "pass", message: `the root filesystem (${facts.where}) is ${expected}` };
    }
    return {
      ...base,
      status: "fail",
      message: `the root filesystem (${facts.where}) is ${facts.filesystem}, the image type needs ${expected}`,
    };
  },
});
