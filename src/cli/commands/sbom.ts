import { basename } from "node:path";
import { type Command, Option } from "commander";
import { checkOutputLocation, writeFileAtomic } from "../../files.js";
import { parsePartitionOption } from "../image-arg.js";
import { ProgressLine } from "../progress.js";
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
          if (opts.out) await checkOutputLocation(opts.out);
          const { sbomForImage } = await import("../../inspect/sbom-image.js");
          const { sbomJson } = await import("../../inspect/sbom.js");
          const progress = new ProgressLine(process.stderr.isTTY === true);
          const name = basename(image);
          const doc = await sbomForImage(image, opts.format, {
            partition,
            hash: opts.hash,
            onHashProgress: (bytesDone, bytesTotal) =>
              progress.update({ name, phase: "hashing", bytesDone, bytesTotal }),
          });
          progress.clear();
          if (opts.out) await writeFileAtomic(opts.out, sbomJson(doc));
          else process.stdout.write(sbomJson(doc));
          return 0;
        },
      ),
    );
}
