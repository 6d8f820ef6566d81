/** The shapes of policies, rules, legs and check outcomes shared by the policy engine's modules. */
import type { CheckResult } from "../inspect/verdict.js";

/** Every policy check, in the order they run and are reported. */
export const CHECK_NAMES = [
  "root-filesystem",
  "required-packages",
  "kernel",
  "package-arch",
  "services",
  "sshd",
  "machine-id",
  "ssh-host-keys",
  "passwords",
  "user-files",
  "leftovers",
  "network-config",
  "fstab",
  "boot",
  "kernel-cmdline",
  "selinux",
  "repos",
  "filesystems-clean",
  "file-integrity",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export function isCheckName(s: string): s is CheckName {
  return (CHECK_NAMES as readonly string[]).includes(s);
}

/** What the policy knows of the leg an image was built for; `when` conditions test these. */
export interface PolicyLeg {
  /** The catalog image type (azure, gencloud, ...); undefined when verifying without a catalog leg. */
  readonly type?: string;
  /** The catalog version: 8, 9, 10, 10-kitten. */
  readonly version?: string;
  /** 8, 9 or 10 (Kitten is 10). */
  readonly major?: string;
  /** The package ARCH of the leg: x86_64, x86_64_v2, aarch64. */
  readonly arch: string;
  /** `64k` for the aarch64 legs with a 64 KiB-page kernel. */
  readonly kernel: "standard" | "64k";
}

/** A rule applies only to legs matching every listed field (each a list of accepted values). */
export interface When {
  readonly type?: readonly string[];
  readonly version?: readonly string[];
  readonly major?: readonly string[];
  readonly arch?: readonly string[];
  readonly kernel?: readonly string[];
}

/** Why a rule exists and where upstream says so; every built-in rule carries both. */
export interface RuleMeta {
  readonly reason?: string;
  readonly source?: string;
  readonly when?: When;
  /** In a policy given with --policy: drop the built-in item with the same key. */
  readonly remove?: boolean;
}

export type Severity = "fail" | "warn" | "off";

/** One check's configuration: its severity, reason, source and check-specific parameters. */
export interface CheckRule extends RuleMeta {
  readonly severity?: Severity;
  readonly [param: string]: unknown;
}

/** A policy file's content (built-in or given with --policy). */
export interface PolicyDocument {
  readonly policy: 1;
  /** A built-in policy this one starts from (e.g. gencloud_ext4 extends gencloud). */
  readonly extends?: string;
  readonly description?: string;
  readonly checks: Readonly<Partial<Record<CheckName, CheckRule>>>;
}

/** The policy that runs: the merged checks and where they came from. */
export interface Policy {
  /** e.g. `gencloud (built-in) + site.yaml`. */
  readonly name: string;
  readonly checks: Readonly<Partial<Record<CheckName, CheckRule>>>;
}

/** One defect a check found; `subject` (a path or package name) is what a waiver can name. */
export interface Finding {
  readonly subject?: string;
  readonly message: string;
}

/** A check's verdict before waivers: findings make it fail (or warn, by severity). */
export interface Evaluation {
  readonly status: CheckResult["status"];
  readonly expected?: string;
  readonly found?: string;
  /** For pass and skip, and for a failure that is not a list of findings. */
  readonly message: string;
  readonly findings?: readonly Finding[];
}

export interface Waiver {
  readonly check: CheckName;
  readonly path?: string;
  readonly package?: string;
  readonly reason: string;
  /** YYYY-MM-DD, the last day it applies (UTC). */
  readonly expires: string;
  /** Where it was given: `FILE:LINE`. */
  readonly origin: string;
}
