import { basename } from "node:path";
import { type Command, Option } from "commander";
import { CloudImagesError } from "../../errors.js";
import { sha256File, writeFileAtomic } from "../../files.js";
import { parseOsRelease } from "../../inspect/os-release.js";
import { openImageRoot } from "../../inspect/root.js";
import { readImagePackages } from "../../inspect/rpmdb.js";
import { parsePartitionOption } from "../image-arg.js";
import { action } from "../util.js";

export function register(program: Command): void {
  program
    .command("sbom")
    .description(
      "a software bill of materials for an image's installed packages (CycloneDX 1.6 or SPDX 2.3 JSON)",
    )
    .argument("<image>", "raw or qcow2 disk image")
    .addOption(
      new Option("--format <F>", "cyclonedx or spdx").choices(["cyclonedx", "spdx"]).default("cyclonedx"),
    )
    .option("--out <FILE>", "write to FILE (atomically) instead of standard output")
    .option("--hash", "include the image file's SHA-256 (reads the whole file)")
    .option("--partition <N>", "read partition N instead of the OS root")
    .addHelpText(
      "after",
      "\nSOURCE_DATE_EPOCH, when set, fixes the time stamp (and makes the serial number reproducible).\n" +
        "\nExample:\n  cloud-images sbom AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2 --format spdx --out image.spdx.json",
    )
    .action(
      action(
        async (
          image: string,
          opts: { format: "cyclonedx" | "spdx"; out?: string; hash?: boolean; partition?: string },
        ) => {
          const partition = parsePartitionOption(opts.partition);
          const { buildSbom, sbomJson, sourceDateEpoch } = await import("../../inspect/sbom.js");
          sourceDateEpoch(); // a malformed value is bad input: refuse it before any work
          const root = await openImageRoot(image, partition !== undefined ? { partition } : {});
          let osRelease: Record<string, string> = {};
          let packages: Awaited<ReturnType<typeof readImagePackages>>["packages"];
          try {
            packages = (await readImagePackages(root)).packages;
            try {
              osRelease = parseOsRelease((await root.paths.readFile("/etc/os-release", 1 << 20)).toString());
            } catch (e) {
              if (!(e instanceof CloudImagesError)) throw e;
            }
          } finally {
            await root.close();
          }
          const doc = buildSbom(
            packages,
            {
              name: basename(image),
              release: osRelease.VERSION_ID,
              distroId: osRelease.ID,
              prettyName: osRelease.PRETTY_NAME,
              imageSha256: opts.hash ? await sha256File(image) : undefined,
            },
            opts.format,
          );
          if (opts.out) await writeFileAtomic(opts.out, sbomJson(doc));
          else process.stdout.write(sbomJson(doc));
          return 0;
        },
      ),
    );
}
