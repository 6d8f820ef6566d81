import { type Command, Option } from "commander";
import { diffPackages } from "../../inspect/package-diff.js";
import { formatPackageDiffMarkdown, formatPackageDiffText } from "../../inspect/package-diff-format.js";
import { packageNamesText, packageNevraText, sortPackages } from "../../inspect/package-list.js";
import { loadPackageList } from "../../inspect/package-source.js";
import { openImageRoot } from "../../inspect/root.js";
import { readImagePackages } from "../../inspect/rpmdb.js";
import { parsePartitionOption } from "../image-arg.js";
import { action, printJson, safeLine } from "../util.js";

/** Package names and versions come from the image: each line made safe for the terminal. */
function write(text: string): void {
  process.stdout.write(text.split("\n").map(safeLine).join("\n"));
}

export function register(program: Command): void {
  const packages = program
    .command("packages")
    .description("the installed packages of an image, read from its rpm database (no mount, no root)")
    .argument("<image>", "raw or qcow2 disk image")
    .addOption(
      new Option(
        "--format <F>",
        "names: the seed's IMAGE.txt list; nevra: NAME-[E:]V-R.ARCH; json: full records",
      )
        .choices(["names", "nevra", "json"])
        .default("names"),
    )
    .option("--json", "same as --format json")
    .option("--partition <N>", "read partition N instead of the OS root")
    .addHelpText(
      "after",
      "\nExamples:\n  cloud-images packages disk.qcow2 > disk.qcow2.txt\n  cloud-images packages disk.qcow2 --format nevra\n" +
        "  cloud-images packages diff old.qcow2.txt new.qcow2 --format markdown",
    )
    .action(
      action(async (image: string, opts: { format: string; json?: boolean; partition?: string }) => {
        const partition = parsePartitionOption(opts.partition);
        const root = await openImageRoot(image, partition !== undefined ? { partition } : {});
        try {
          const { packages: list } = await readImagePackages(root);
          const format = opts.json ? "json" : opts.format;
          if (format === "json") printJson(sortPackages(list));
          else if (format === "nevra") write(packageNevraText(list));
          else write(packageNamesText(list.map((p) => p.name)));
          return 0;
        } finally {
          await root.close();
        }
      }),
    );

  packages
    .command("diff")
    .description("added, removed and version-changed packages between two images or package lists")
    .argument(
      "<old>",
      "an image, a name list (IMAGE.txt, one name a line) or a JSON list (packages --format json)",
    )
    .argument("<new>", "the same kinds, for the newer side")
    .addOption(
      new Option("--format <F>", "text, markdown (for a job summary) or json")
        .choices(["text", "markdown", "json"])
        .default("text"),
    )
    .option("--json", "same as --format json")
    .addHelpText(
      "after",
      "\nExample:\n  cloud-images packages diff AlmaLinux-9-GenericCloud-9.5.x86_64.qcow2.txt AlmaLinux-9-GenericCloud-9.6.x86_64.qcow2",
    )
    .action(
      action(async (oldPath: string, newPath: string, opts: { format: string; json?: boolean }) => {
        const before = await loadPackageList(oldPath);
        const after = await loadPackageList(newPath);
        const diff = diffPackages(before.packages, after.packages);
        const labels = { old: oldPath, new: newPath };
        const format = opts.json ? "json" : opts.format;
        if (format === "json") printJson({ old: oldPath, new: newPath, ...diff });
        else if (format === "markdown") write(formatPackageDiffMarkdown(diff, labels));
        else write(formatPackageDiffText(diff, labels));
        return 0;
      }),
    );
}
