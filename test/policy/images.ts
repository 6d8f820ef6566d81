/**
 * The realistic imagegen images the policy tests verify: one clean image per image type, covering
 * AlmaLinux 8, 9, 10 and Kitten, both root filesystems and rpm database formats, x86_64, x86_64_v2,
 * aarch64 and the 64k kernel; and the leg each one is verified as.
 */

import { type BuiltImage, buildImage, type ImageSpec } from "../../imagegen/index.js";
import type { CheckResult, Verdict } from "../../src/inspect/verdict.js";
import { expectationsForLeg, verifyImage } from "../../src/inspect/verify.js";
import { setupPolicy } from "../../src/policy/setup.js";
import { DEMO_BASE_SPEC } from "../fixtures/busybox-leg/lib/base-image.js";
import { SPECS } from "../inspect/images.js";

export interface Leg {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
  readonly release: string;
}

export interface Cover {
  readonly spec: ImageSpec;
  readonly leg: Leg;
}

/**
 * The clean images, one per type. Three are images other suites build anyway (the demo's base disk, the
 * inspect tests' AlmaLinux 8 OCI and 9 ext4 images), so the cover costs two builds of its own; the
 * GenericCloud 9 and OCI 8 ones carry the real package lists, the others the small list plus their type's.
 */
export const COVER = {
  gencloud9: {
    spec: DEMO_BASE_SPEC,
    leg: { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" },
  },
  ext4_9: {
    spec: SPECS.al9ext4,
    leg: { type: "gencloud_ext4", variant: "9", arch: "x86_64", release: "9.6" },
  },
  oci8: {
    spec: SPECS.al8,
    leg: { type: "oci", variant: "8", arch: "aarch64", release: "8.10" },
  },
  azureKitten64k: {
    spec: {
      arch: "aarch64",
      el: "10-kitten",
      release: "10",
      rootfs: "xfs",
      formats: ["raw"],
      diskSize: "4G",
      imageType: "azure",
      kernel: "64k",
    },
    leg: { type: "azure", variant: "10-kitten-64k", arch: "aarch64", release: "10" },
  },
  opennebula10v2: {
    spec: {
      arch: "x86_64_v2",
      el: "10",
      release: "10.1",
      rootfs: "xfs",
      formats: ["qcow2-zstd"],
      diskSize: "4G",
      imageType: "opennebula",
    },
    leg: { type: "opennebula", variant: "10-v2", arch: "x86_64", release: "10.1" },
  },
} satisfies Record<string, Cover>;

export type CoverName = keyof typeof COVER;

export function coverImage(name: CoverName, extra: Partial<ImageSpec> = {}): Promise<BuiltImage> {
  return buildImage({ ...(COVER[name].spec as ImageSpec), ...extra });
}

/** The image file of the first format a spec asks for. */
export function imagePath(img: BuiltImage): string {
  return Object.values(img.paths)[0]!;
}

/** verify as the pipeline runs it: the leg's expectations, then its acceptance policy. */
export async function verifyLeg(path: string, leg: Leg, options: { deep?: boolean } = {}): Promise<Verdict> {
  const policy = await setupPolicy({ leg, ...options });
  return verifyImage(path, expectationsForLeg(leg), { packagesOut: null, extraChecks: policy!.extraChecks });
}

/** name → status, for comparing verdicts. */
export function statuses(checks: readonly CheckResult[]): Record<string, string> {
  return Object.fromEntries(checks.map((c) => [c.name, c.status]));
}
