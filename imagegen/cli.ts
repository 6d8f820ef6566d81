/**
 * imagegen CLI: build (or fetch from the cache) one test image and copy it to --out.
 *   npx tsx imagegen/cli.ts --arch x86_64 --el 9 --release 9.6 --rootfs xfs --format qcow2 --out FILE
 */
import { closeSync, copyFileSync, ftruncateSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { EXIT_FAILURE, EXIT_USAGE, isCloudImagesError, UsageError } from "../src/errors.js";
import { buildImage } from "./index.js";
import { sparseCopy } from "./sparse-copy.js";
import { ARCHES, EL_VERSIONS, FORMATS, type ImageFormat, type ImageSpec, ROOT_FILESYSTEMS } from "./spec.js";

interface Opts {
  arch: ImageSpec["arch"];
  el: ImageSpec["el"];
  release: string;
  rootfs: ImageSpec["rootfs"];
  format: ImageFormat[];
  out?: string;
  packages: string;
  fillerMib: number;
  diskSize: string;
  layout: "almalinux" | "bare";
  releasePackageArch?: string;
  json?: boolean;
  quiet?: boolean;
}

function integer(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("not a non-negative integer");
  return Number(v);
}

/** Copies a cached image to `out` without touching the cache (raw stays sparse); atomic via rename. */
async function copyOut(src: string, format: ImageFormat, out: string): Promise<void> {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    if (format === "raw") {
      const { size } = statSync(src);
      const fd = openSync(tmp, "w");
      ftruncateSync(fd, size);
      closeSync(fd);
      await sparseCopy(src, tmp, 0);
    } else {
      copyFileSync(src, tmp);
    }
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("imagegen")
    .description("build an AlmaLinux-like test disk image (cached under .cache/imagegen/)")
    .addOption(new Option("--arch <arch>", "image architecture").choices(ARCHES).makeOptionMandatory())
    .addOption(new Option("--el <version>", "major version").choices(EL_VERSIONS).makeOptionMandatory())
    .requiredOption("--release <release>", "point release: 9.6, 8.10, 10.1; Kitten 10")
    .addOption(new Option("--rootfs <fs>", "root filesystem").choices(ROOT_FILESYSTEMS).default("xfs"))
    .addOption(
      new Option(
        "--format <format>",
        `output format, repeatable (${FORMATS.join(", ")}; default qcow2)`,
      ).argParser((v: string, prev: ImageFormat[] | undefined) => {
        if (!FORMATS.includes(v as ImageFormat))
          throw new InvalidArgumentError(`valid: ${FORMATS.join(", ")}`);
        return [...(prev ?? []), v as ImageFormat];
      }),
    )
    .option("--out <file>", "copy the image here (needs exactly one --format)")
    .option("--packages <set>", "small, realistic, or a comma-separated list of names", "small")
    .option("--filler-mib <n>", "extra host data in MiB (for big images)", integer, 0)
    .option("--disk-size <size>", "virtual disk size, sparse", "10G")
    .addOption(
      new Option("--layout <layout>", "partitioning").choices(["almalinux", "bare"]).default("almalinux"),
    )
    .option("--release-package-arch <arch>", "build the release package for another arch")
    .option("--json", "print the BuiltImage record as JSON")
    .option("--quiet", "no progress lines on stderr")
    .addHelpText(
      "after",
      "\nExample:\n  npx tsx imagegen/cli.ts --arch x86_64 --el 9 --release 9.6 --rootfs xfs --format qcow2 --out al9.qcow2",
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : EXIT_USAGE;
  }
  const o = program.opts<Opts>();
  const formats = o.format ?? ["qcow2"];
  if (o.out && formats.length !== 1) throw new UsageError("imagegen: --out needs exactly one --format");
  const packages =
    o.packages === "small" || o.packages === "realistic"
      ? o.packages
      : o.packages
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  const spec: ImageSpec = {
    arch: o.arch,
    el: o.el,
    release: o.release,
    rootfs: o.rootfs,
    formats,
    packages,
    fillerMiB: o.fillerMib,
    diskSize: o.diskSize,
    layout: o.layout,
  };
  if (o.releasePackageArch) spec.releasePackageArch = o.releasePackageArch;
  const log = o.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const image = await buildImage(spec, log ? { log } : {});
  if (o.out) await copyOut(image.paths[formats[0]!]!, formats[0]!, o.out);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...image, out: o.out ?? null }, null, 2)}\n`);
  else {
    for (const f of formats) process.stdout.write(`${f}: ${image.paths[f]}\n`);
    if (o.out) process.stdout.write(`out: ${o.out}\n`);
    process.stdout.write(
      `packages: ${image.expected.packageNames.length}; build: ${image.buildSeconds.toFixed(1)} s\n`,
    );
  }
  return 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${msg.replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = isCloudImagesError(e) ? e.exitCode : EXIT_FAILURE;
  },
);
