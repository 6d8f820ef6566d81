/**
 * prepare: resolve the leg (looking up the point release when not given), pick Packer variables for
 * the runner OS, and check the machine and the templates before anything slow starts.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseVariant } from "../../catalog/catalog.js";
import { StepFailedError } from "../../errors.js";
import { legManifestSchema } from "../../manifest/manifest.js";
import { almaArchOf, type ResolvedLeg, requireRelease, resolveLeg } from "../../resolve/resolve.js";
import { checkTemplates } from "../../workflows/templates.js";
import type { LegContext, Step } from "../context.js";
import {
  detectRunnerOs,
  exists,
  findExecutable,
  kvmAccess,
  packerSupportsInit,
  packerVarsFor,
  packerVersion,
  toolVersion,
} from "../host.js";
import { outputDirOf, packerBuildArgs } from "../packer.js";
import { lookupRelease } from "../release-lookup.js";
import { builderOf, gitSource, toolSource } from "../sources.js";

const INSTALL_HINT = {
  packer:
    "install it (Debian/Ubuntu: apt-get install packer, or HashiCorp's apt repository; RHEL: dnf install packer from HashiCorp's repository)",
  qemu: (binary: string) =>
    binary.includes("libexec")
      ? "install it with dnf install qemu-kvm"
      : `install it with apt-get install ${binary.endsWith("aarch64") ? "qemu-system-arm" : "qemu-system-x86"}`,
};

/** Resolves the leg, looking up the point release on the mirror when it was not given. */
export async function resolveForRun(
  ctx: LegContext,
): Promise<{ resolved: ResolvedLeg; releaseFrom: string }> {
  const { options, leg } = ctx;
  const version = parseVariant(leg.variant)!.version;
  let release = options.release;
  let releaseFrom = "given";
  if (release === undefined && version !== "10-kitten") {
    ctx.log(`looking up the current ${version} point release on the mirror`);
    const mirror = options.mirror ?? (ctx.env.CLOUD_IMAGES_MIRROR || undefined);
    const info = await lookupRelease({ version, arch: almaArchOf(leg), mirror });
    release = info.release;
    releaseFrom = info.url ?? "mirror";
  }
  const resolved = resolveLeg(leg, requireRelease(version, release), ctx.timeStamp);
  ctx.state.resolved = resolved;
  ctx.manifest.resolved = resolved;
  ctx.log(
    `leg ${leg.type} ${leg.variant} ${leg.arch}: ${resolved.packerSource}, release ${resolved.release}`,
  );
  return { resolved, releaseFrom };
}

/** Why an existing output directory stops the build: a finished earlier run, or one that did not finish. */
async function earlierRun(outputDir: string): Promise<string> {
  const names = await readdir(outputDir);
  for (const name of names.filter((n) => n.endsWith(".manifest.json"))) {
    const parsed = legManifestSchema.safeParse(
      await readFile(join(outputDir, name), "utf8").then(JSON.parse, () => undefined),
    );
    if (!parsed.success) continue;
    const { image, timeStamp } = parsed.data;
    if (image && names.includes(image.name)) {
      return (
        `${outputDir} exists from an earlier run that built ${image.name} (time stamp ${timeStamp}); ` +
        "pass --clean to replace it with a new build, or --from STEP to go on with that one"
      );
    }
  }
  return (
    `${outputDir} exists from an earlier run that did not finish (${names.join(", ") || "empty"}); ` +
    "remove it or pass --clean"
  );
}

export const prepare: Step = {
  name: "prepare",

  async run(ctx) {
    const { options, leg } = ctx;
    const { resolved, releaseFrom } = await resolveForRun(ctx);

    const [templates, tool] = await Promise.all([gitSource(options.templatesDir), toolSource()]);
    ctx.manifest.sources = { ...(templates ? { templates } : {}), ...(tool ? { tool } : {}) };
    ctx.manifest.builder = builderOf(ctx.env);

    const runnerOs = await detectRunnerOs();
    const vars = packerVarsFor(runnerOs, leg.arch);
    const packer = await findExecutable(options.packer ?? "packer", ctx.env.PATH);
    if (!packer) throw new StepFailedError("prepare", `packer not found: ${INSTALL_HINT.packer}`);
    const pVersion = (await packerVersion(packer, ctx.signal)) ?? "unknown";
    ctx.manifest.tools.packer = pVersion;
    const qemu = vars.qemu_binary!;
    if (!(await exists(qemu)))
      throw new StepFailedError("prepare", `${qemu} not found: ${INSTALL_HINT.qemu(qemu)}`);
    ctx.manifest.tools.qemu = (await toolVersion(qemu, ["--version"], ctx.signal)) ?? "unknown";
    for (const firmware of [vars.ovmf_code, vars.ovmf_vars]) {
      if (firmware && !(await exists(firmware)))
        ctx.warn(`${firmware} not found (UEFI builds need it: apt-get install ovmf)`);
    }
    const kvm = await kvmAccess();
    if (!kvm.usable) ctx.warn(`KVM is not usable, builds will be slow or fail: ${kvm.reason}`);

    const report = await checkTemplates(options.templatesDir, [leg]);
    const status = report.legs[0]!;
    if (status.state !== "ok") {
      const why =
        status.state === "missing"
          ? `no source "qemu" "${resolved.packerSource.slice(5)}" block in ${options.templatesDir}`
          : status.state === "not-built"
            ? `source ${resolved.packerSource} (${status.file}) is not listed in any build { sources = [...] } block`
            : `source ${resolved.packerSource} (${status.file}) ${status.problems!.join("; ")}`;
      throw new StepFailedError(
        "prepare",
        `${why} (see: cloud-images templates check --dir ${options.templatesDir})`,
      );
    }

    const outputDir = join(options.templatesDir, outputDirOf(resolved));
    if (await exists(outputDir)) {
      if (!options.clean) throw new StepFailedError("prepare", await earlierRun(outputDir));
      ctx.warn(`removing ${outputDir} from an earlier run (--clean)`);
      await rm(outputDir, { recursive: true, force: true });
    }

    ctx.state.packerArgs = packerBuildArgs(resolved, vars);
    ctx.state.packerInit = packerSupportsInit(pVersion);
    return {
      outputs: {
        release: resolved.release,
        releaseFrom,
        runnerOs,
        packer,
        packerVersion: pVersion,
        packerVars: vars,
        kvm: kvm.usable ? "usable" : kvm.reason,
        template: status.file,
      },
    };
  },

  describe(ctx) {
    const release = ctx.state.resolved?.release;
    return [
      `resolve ${ctx.leg.type} ${ctx.leg.variant} ${ctx.leg.arch}` +
        (ctx.options.release || ctx.leg.variant.startsWith("10-kitten")
          ? ` release ${release ?? ctx.options.release}`
          : ` release ${release} read from the mirror (a dry run reads it too; --release skips that)`),
      `check packer, QEMU, KVM and the template in ${ctx.options.templatesDir}`,
    ];
  },
};
