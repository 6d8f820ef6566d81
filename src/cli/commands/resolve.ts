import type { Command } from "commander";
import { resolve, toEnvLines } from "../../resolve/resolve.js";
import { action, printJson, printLines, table } from "../util.js";

export function register(program: Command): void {
  program
    .command("resolve")
    .description("everything one build leg needs: Packer source, output mask, S3 prefix, release strings")
    .requiredOption("--type <type>", "azure, gencloud, gencloud_ext4, oci or opennebula")
    .requiredOption("--variant <variant>", "version with optional suffix: 9, 10-v2, 9-64k, 10-kitten…")
    .requiredOption("--arch <arch>", "x86_64 or aarch64")
    .option("--release <R>", "point release such as 9.6 (Kitten: 10, the default)")
    .requiredOption("--timestamp <TS>", "the run's UTC stamp, YYYYMMDDhhmmss")
    .option("--json", "one JSON object")
    .option(
      "--env",
      "packer_source=… output_mask=… AWS_S3_PATH=… packer_builder=… lines (the seed script's output)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  cloud-images resolve --type gencloud --variant 9 --arch x86_64 --release 9.6 --timestamp 20260220143000 --json",
    )
    .action(
      action(
        (opts: {
          type: string;
          variant: string;
          arch: string;
          release?: string;
          timestamp: string;
          json?: boolean;
          env?: boolean;
        }) => {
          const resolved = resolve(opts);
          if (opts.json) printJson(resolved);
          else if (opts.env) printLines(toEnvLines(resolved));
          else printLines(table(Object.entries(resolved).map(([k, v]) => [`${k}:`, String(v)])));
          return 0;
        },
      ),
    );
}
