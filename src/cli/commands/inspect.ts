import type { Command } from "commander";
import { type CleanFact, inspectImage } from "../../inspect/facts.js";
import { escapeTerminal } from "../../text.js";
import { parsePartitionOption } from "../image-arg.js";
import { action, formatBytes, printJson, printLines, table } from "../util.js";

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "what is in a disk image: format, size, partitions, whether each filesystem was cleanly unmounted, the root filesystem, its os-release and SELinux label",
    )
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
        // Everything but our own words comes from the image: escaped for the terminal.
        const t = escapeTerminal;
        const cleanWord = (c: CleanFact | undefined) =>
          !c ? "" : c.clean === null ? "?" : c.clean ? "yes" : "NO";
        const lines = table([
          ["image:", t(facts.path)],
          ["format:", `${facts.format} (file size ${formatBytes(facts.fileSize)})`],
          ...(facts.qcow2
            ? [
                [
                  "qcow2:",
                  `v${facts.qcow2.version}${facts.qcow2.corrupt ? ", CORRUPT bit set (qemu-img check)" : ", not marked corrupt"}`,
                ],
              ]
            : []),
          ["virtual size:", `${formatBytes(facts.virtualSize)} (${facts.virtualSize} bytes)`],
          ["partitions:", facts.partitionTable],
        ]);
        if (facts.partitions.length > 0) {
          const rows = [["", "#", "SIZE", "TYPE", "FS", "CLEAN", "LABEL", "NAME"]];
          for (const p of facts.partitions) {
            rows.push([
              p.root ? "*" : "",
              String(p.number),
              formatBytes(p.size),
              p.type,
              p.filesystem,
              cleanWord(p.clean),
              t(p.label ?? ""),
              t(p.name ?? ""),
            ]);
          }
          lines.push(...table(rows).map((l) => `  ${l}`));
          for (const p of facts.partitions)
            if (p.clean) lines.push(`  partition ${p.number}: ${t(p.clean.detail)}`);
        }
        const where = facts.rootPartition === null ? "the whole disk" : `partition ${facts.rootPartition}`;
        lines.push(`root:          ${where} (${facts.rootFilesystem})`);
        if (facts.rootClean)
          lines.push(`clean:         ${cleanWord(facts.rootClean)}: ${t(facts.rootClean.detail)}`);
        lines.push(
          `selinux label: ${facts.osReleaseLabel === null ? "none on /etc/os-release" : t(facts.osReleaseLabel)}`,
        );
        const os = facts.osRelease;
        if (Object.keys(os).length > 0) {
          lines.push("os-release:");
          lines.push(...table(Object.entries(os).map(([k, v]) => [`  ${t(k)}`, t(v)])));
        }
        for (const w of facts.warnings) lines.push(`warning: ${t(w)}`);
        printLines(lines);
        return 0;
      }),
    );
}
