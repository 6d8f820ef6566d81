import type { Command } from "commander";
import { inspectImage } from "../../inspect/facts.js";
import { parsePartitionOption } from "../image-arg.js";
import { action, formatBytes, printJson, printLines, table } from "../util.js";

export function register(program: Command): void {
  program
    .command("inspect")
    .description("what is in a disk image: format, size, partitions, the root filesystem and its os-release")
    .argument("<image>", "raw or qcow2 disk image (format detected from content)")
    .option("--partition <N>", "treat partition N as the root instead of searching for /etc/os-release")
    .option("--json", "machine-readable facts")
    .addHelpText(
      "after",
      "\nExample:\n  cloud-images inspect AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2",
    )
    .action(
      action(async (image: string, opts: { partition?: string; json?: boolean }) => {
        const partition = parsePartitionOption(opts.partition);
        const facts = await inspectImage(image, partition !== undefined ? { partition } : {});
        if (opts.json) {
          printJson(facts);
          return 0;
        }
        const lines = table([
          ["image:", facts.path],
          ["format:", `${facts.format} (file size ${formatBytes(facts.fileSize)})`],
          ["virtual size:", `${formatBytes(facts.virtualSize)} (${facts.virtualSize} bytes)`],
          ["partitions:", facts.partitionTable],
        ]);
        if (facts.partitions.length > 0) {
          const rows = [["", "#", "SIZE", "TYPE", "FS", "LABEL", "NAME"]];
          for (const p of facts.partitions) {
            rows.push([
              p.root ? "*" : "",
              String(p.number),
              formatBytes(p.size),
              p.type,
              p.filesystem,
              p.label ?? "",
              p.name ?? "",
            ]);
          }
          lines.push(...table(rows).map((l) => `  ${l}`));
        }
        const where = facts.rootPartition === null ? "the whole disk" : `partition ${facts.rootPartition}`;
        lines.push(`root:          ${where} (${facts.rootFilesystem})`);
        const os = facts.osRelease;
        if (Object.keys(os).length > 0) {
          lines.push("os-release:");
          lines.push(...table(Object.entries(os).map(([k, v]) => [`  ${k}`, v])));
        }
        for (const w of facts.warnings) lines.push(`warning: ${w}`);
        printLines(lines);
        return 0;
      }),
    );
}
