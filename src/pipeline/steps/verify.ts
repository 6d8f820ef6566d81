/**
 * verify: the offline checks with the leg's expectations, then the leg's acceptance policy; writes
 * NAME.txt (the package names) and, unless disabled, NAME.cdx.json (CycloneDX SBOM). A failed
 * verification is recorded, and lets the report step run, but the leg fails and nothing is published.
 */
import { basename } from "node:path";
import { writeFileAtomic } from "../../files.js";
import { buildSbom, sbomJson } from "../../inspect/sbom.js";
import { verifyImage } from "../../inspect/verify.js";
import { setupPolicy } from "../../policy/setup.js";
import type { InstalledPackage } from "../../rpm/package.js";
import type { Step } from "../context.js";
import { sidecar } from "../files.js";

export const verify: Step = {
  name: "verify",

  async run(ctx) {
    const { state } = ctx;
    const image = state.imagePath!;
    const resolved = state.resolved!;
    let packages: readonly InstalledPackage[] | undefined;
    const policy = await setupPolicy({
      leg: ctx.leg,
      policyFile: ctx.options.policyFile,
      waiversFile: ctx.options.waiversFile,
      deep: ctx.options.deep,
      onCheck: (name) =>
        name === "file-integrity" ? ctx.log("file-integrity: reading every packaged file") : undefined,
    });
    const verdict = await verifyImage(
      image,
      {
        releaseString: resolved.releaseString,
        arch: resolved.almaArch,
        releasePackage: resolved.releasePackage,
        rootPartition: resolved.rootPartition,
        release: resolved.release,
        buildStamp: ctx.timeStamp,
      },
      {
        packagesOut: sidecar.packages(image),
        onPackages: (p) => (packages = p),
        ...(policy ? { extraChecks: policy.extraChecks } : {}),
      },
    );
    state.verdict = verdict;
    ctx.manifest.verdict = verdict;
    ctx.manifest.tests = { ...ctx.manifest.tests, offline: verdict.passed ? "passed" : "failed" };
    if (verdict.packagesFile) state.packagesPath = verdict.packagesFile;
    for (const c of verdict.checks) {
      const line = `${c.status.toUpperCase().padEnd(4)} ${c.name}: ${c.message}`;
      if (c.status === "fail" || c.status === "warn") ctx.warn(line);
      else ctx.log(line);
    }
    if (packages && ctx.options.sbom !== false) {
      const doc = buildSbom(
        packages,
        { name: basename(image), release: resolved.release, imageSha256: state.sha256 },
        "cyclonedx",
      );
      state.sbomPath = sidecar.sbom(image);
      await writeFileAtomic(state.sbomPath, sbomJson(doc));
    }
    const failed = verdict.checks.filter((c) => c.status === "fail");
    return {
      outputs: {
        passed: verdict.passed,
        packageCount: verdict.packageCount,
        ...(state.packagesPath ? { packagesFile: state.packagesPath } : {}),
        ...(state.sbomPath ? { sbomFile: state.sbomPath } : {}),
      },
      ...(failed.length > 0
        ? {
            failed: `verification failed: ${failed
              .map((c) => `${c.name} (expected ${c.expected ?? "?"}, found ${c.found ?? "?"})`)
              .join("; ")}`,
          }
        : {}),
    };
  },

  describe() {
    return [
      "check the release file, release package arch, root partition, os-release and the type's acceptance policy → IMAGE.txt, IMAGE.cdx.json",
    ];
  },
};
