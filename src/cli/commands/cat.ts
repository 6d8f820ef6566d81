import type { Command } from "commander";
import { PathNotFoundError } from "../../errors.js";
import { openImageRoot } from "../../inspect/root.js";
import { parsePartitionOption, splitImagePath } from "../image-arg.js";
import { printStats } from "../stats.js";
import { action } from "../util.js";

function write(chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

export function register(program: Command): void {
  program
    .command("cat")
    .description("print a file from inside a disk image's root filesystem (no mount, no root)")
    .argument("<image:path>", "disk image followed by :/absolute/path")
    .option("--partition <N>", "read partition N instead of the OS root")
    .addHelpText("after", "\nExample:\n  cloud-images cat disk.qcow2:/etc/os-release")
    .action(
      action(async (arg: string, opts: { partition?: string }) => {
        const { image, path } = splitImagePath(arg);
        const partition = parsePartitionOption(opts.partition);
        const root = await openImageRoot(image, partition !== undefined ? { partition } : {});
        try {
          const file = await root.paths.resolve(path);
          if (file.stat.type !== "file") throw new PathNotFoundError(`not a regular file: ${file.path}`);
          for await (const chunk of root.paths.stream(file.ino, file.stat.size)) await write(chunk);
          printStats({ bytesRead: root.image.file.bytesRead });
          return 0;
        } finally {
          await root.close();
        }
      }),
    );
}
