import { type Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { writeFileAtomic } from "../../files.js";
import type { CheckResult, Verdict } from "../../inspect/verdict.js";
import { expectationsForLeg, type VerifyExpectations, verifyImage } from "../../inspect/verify.js";
import { junitXml } from "../../policy/junit.js";
import { setupPolicy } from "../../policy/setup.js";
import { parsePartitionOption } from "../image-arg.js";
import { printStats } from "../stats.js";
import { action, printJson, printLines, table } from "../util.js";

interface VerifyOptions {
  releaseString?: string;
  arch?: string;
  releasePackage?: string;
  rootPartition?: string;
  type?: string;
  variant?: string;
  release?: string;
  packagesOut?: string;
  backend: "native" | "nbd";
  policy: string | boolean;
  waivers?: string;
  junit?: string;
  deep?: boolean;
  json?: boolean;
}

/** Expectations from the explicit options, or every one of them from the catalog leg. */
function expectationsFrom(opts: VerifyOptions): VerifyExpectations {
  const rootPartition = parsePartitionOption(opts.rootPartition);
  const overrides = {
    ...(opts.releasePackage !== undefined ? { releasePackage: opts.releasePackage } : {}),
    ...(rootPartition !== undefined ? { rootPartition } : {}),
  };
  if (opts.type !== undefined || opts.variant !== undefined) {
    if (opts.type === undefined || opts.variant === undefined || opts.arch === undefined)
      throw new UsageError("a catalog leg needs --type, --variant and --arch (and --release)");
    if (opts.releaseString !== undefined)
      throw new UsageError("give either --release-string or --type/--variant, not both");
    return { ...expectationsForLeg(opts as { type: string; variant: string; arch: string }), ...overrides };
  }
  if (opts.releaseString === undefined || opts.arch === undefined)
    throw new UsageError(
      "give --release-string S and --arch A, or --type T --variant V --arch A --release R",
    );
  return {
    releaseString: opts.releaseString,
    arch: opts.arch,
    ...(opts.release !== undefined ? { release: opts.release } : {}),
    ...overrides,
  };
}

const MARK: Record<CheckResult["status"], string> = {
  pass: "PASS",
  fail: "FAIL",
  warn: "WARN",
  skip: "SKIP",
};

function humanReport(v: Verdict): string[] {
  const rows = v.checks.map((c) => {
    const detail =
      c.status === "fail" || c.status === "warn"
        ? ` (expected: ${c.expected ?? "-"}, found: ${c.found ?? "-"})`
        : "";
    return [MARK[c.status], c.name, `${c.message}${detail}`];
  });
  const failed = v.checks.filter((c) => c.status === "fail").map((c) => c.name);
  const warned = v.checks.filter((c) => c.status === "warn").length;
  const tail = warned > 0 ? `, ${warned} warning${warned > 1 ? "s" : ""}` : "";
  return [
    `image: ${v.image}`,
    ...table(rows),
    v.passed ? `verdict: PASSED${tail}` : `verdict: FAILED (${failed.join(", ")})${tail}`,
  ];
}

export function register(program: Command): void {
  program
    .command("verify")
    .description(
      "check a built image offline: release file, release package ARCH (exact), root partition, os-release; write IMAGE.txt",
    )
    .argument("<image>", "raw or qcow2 disk image (format detected from content)")
    .option("--release-string <S>", 'text /etc/almalinux-release must contain, e.g. "AlmaLinux release 9.6"')
    .option(
      "--arch <A>",
      "expected ARCH of the release package (x86_64, x86_64_v2, aarch64); with --type: the runner arch",
    )
    .option(
      "--release-package <P>",
      "the release package (default almalinux-release; Kitten almalinux-kitten-release)",
    )
    .option("--root-partition <N>", "the partition the root filesystem should be on (a warning if not)")
    .option("--type <T>", "catalog image type: take every expectation from the resolver")
    .option("--variant <V>", "catalog variant, with --type")
    .option(
      "--release <R>",
      "point release such as 9.6: os-release VERSION_ID (with --type: the leg's release)",
    )
    .option(
      "--packages-out <FILE>",
      "where to write the package-name list (default: IMAGE.txt beside the image)",
    )
    .addOption(
      new Option("--backend <B>", "native: read the image directly (no root); nbd: qemu-nbd + mount (root)")
        .choices(["native", "nbd"])
        .default("native"),
    )
    .option(
      "--policy <FILE>",
      "policy file (YAML or JSON) adding to or overriding the type's built-in rules; with no catalog leg, the only rules",
    )
    .option("--no-policy", "run only the checks above, not the image type's acceptance policy")
    .option(
      "--waivers <FILE>",
      "accepted failures: check, optional path or package, reason, expires (YYYY-MM-DD)",
    )
    .option("--junit <FILE>", "also write the verdict as JUnit XML (one testcase per check)")
    .option(
      "--deep",
      "also run file-integrity: every packaged file's size and digest against the rpm database",
    )
    .option("--json", "print the verdict as JSON")
    .addHelpText(
      "after",
      "\nWith --type, the image type's acceptance policy runs after the checks above (see the README for\n" +
        "every check, the policy file format and waivers).\n" +
        "\nExamples:\n" +
        '  cloud-images verify AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2 --release-string "AlmaLinux release 9.6" --arch x86_64\n' +
        "  cloud-images verify IMAGE.qcow2 --type gencloud --variant 10-v2 --arch x86_64 --release 10.1 --json\n" +
        "  cloud-images verify IMAGE.qcow2 --type azure --variant 9 --arch x86_64 --release 9.6 --waivers waivers.yaml --junit verify.xml\n" +
        "  cloud-images verify IMAGE.qcow2 --type gencloud --variant 9 --arch x86_64 --release 9.6 --deep\n" +
        "\nExit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad arguments or a bad policy or waiver file.",
    )
    .action(
      action(async (image: string, opts: VerifyOptions) => {
        const expectations = expectationsFrom(opts);
        if (opts.policy === false && (opts.waivers !== undefined || opts.deep)) {
          throw new UsageError("--waivers and --deep need the policy (drop --no-policy)");
        }
        const policy =
          opts.policy === false
            ? null
            : await setupPolicy({
                leg:
                  opts.type !== undefined
                    ? (opts as { type: string; variant: string; arch: string })
                    : undefined,
                arch: expectations.arch,
                release: expectations.release,
                policyFile: typeof opts.policy === "string" ? opts.policy : undefined,
                waiversFile: opts.waivers,
                deep: opts.deep,
              });
        if (policy === null && (opts.waivers !== undefined || opts.deep)) {
          throw new UsageError(
            "--waivers and --deep need a policy: give --type/--variant/--arch or --policy FILE",
          );
        }
        const verdict = await verifyImage(image, expectations, {
          backend: opts.backend,
          ...(opts.packagesOut !== undefined ? { packagesOut: opts.packagesOut } : {}),
          onBytesRead: (bytesRead) => printStats({ bytesRead }),
          ...(policy ? { extraChecks: policy.extraChecks } : {}),
        });
        if (opts.junit !== undefined) await writeFileAtomic(opts.junit, junitXml(verdict));
        if (opts.json) printJson(verdict);
        else printLines(humanReport(verdict));
        return verdict.passed ? 0 : 1;
      }),
    );
}
