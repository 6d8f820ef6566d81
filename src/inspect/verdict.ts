/** The result of verifying one image: named checks with expected and found values. */

export type CheckStatus = "pass" | "fail" | "warn" | "skip";

export interface CheckResult {
  /** Stable identifier, e.g. `release-file`, `release-package-arch`, `root-partition`, `os-release`. */
  readonly name: string;
  readonly status: CheckStatus;
  readonly expected?: string;
  readonly found?: string;
  /** One line for people. */
  readonly message: string;
}

export interface Verdict {
  /** True when no check failed (warnings do not fail). */
  readonly passed: boolean;
  readonly image: string;
  /** Mutable array type so a Verdict is assignable to the leg manifest's (zod) verdict. */
  readonly checks: CheckResult[];
  readonly rootPartition?: number;
  readonly packageCount?: number;
  /** Where the package-name list was written, if it was. */
  readonly packagesFile?: string;
}
