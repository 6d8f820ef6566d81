import type { Command } from "commander";
import type { InodeStat } from "../../fs/types.js";
import { openImageRoot } from "../../inspect/root.js";
import { parsePartitionOption, splitImagePath } from "../image-arg.js";
import { action, printJson, printLines, table } from "../util.js";

const TYPE_CHAR: Record<InodeStat["type"], string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  fifo: "p",
  socket: "s",
  blockdev: "b",
  chardev: "c",
};

function modeString(st: InodeStat): string {
  const rwx = (bits: number, special: boolean, specialChar: string) =>
    (bits & 4 ? "r" : "-") +
    (bits & 2 ? "w" : "-") +
    (special ? (bits & 1 ? specialChar : specialChar.toUpperCase()) : bits & 1 ? "x" : "-");
  const m = st.mode;
  return (
    TYPE_CHAR[st.type] +
    rwx((m >> 6) & 7, (m & 0o4000) !== 0, "s") +
    rwx((m >> 3) & 7, (m & 0o2000) !== 0, "s") +
    rwx(m & 7, (m & 0o1000) !== 0, "t")
  );
}

function timeString(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

export function register(program: Command): void {
  program
    .command("ls")
    .description("list a directory inside a disk image's root filesystem (no mount, no root)")
    .argument("<image[:path]>", "disk image, optionally followed by :/absolute/path (default /)")
    .option("--partition <N>", "read partition N instead of the OS root")
    .option("--json", "machine-readable entries")
    .addHelpText(
      "after",
      "\nExamples:\n  cloud-images ls disk.qcow2\n  cloud-images ls disk.qcow2:/etc/yum.repos.d",
    )
    .action(
      action(async (arg: string, opts: { partition?: string; json?: boolean }) => {
        const { image, path } = splitImagePath(arg, "/");
        const partition = parsePartitionOption(opts.partition);
        const root = await openImageRoot(image, partition !== undefined ? { partition } : {});
        try {
          const target = await root.paths.resolve(path);
          const entries =
            target.stat.type === "dir"
              ? await root.paths.list(target.path)
              : [{ name: target.path, ino: target.ino, stat: target.stat }];
          const withTargets = [];
          for (const e of entries) {
            const link = e.stat.type === "symlink" ? await root.fs.readLink(e.ino) : undefined;
            withTargets.push({ ...e, link });
          }
          if (opts.json) {
            printJson(
              withTargets.map((e) => ({
                name: e.name,
                ...e.stat,
                ...(e.link !== undefined ? { target: e.link } : {}),
              })),
            );
            return 0;
          }
          printLines(
            table(
              withTargets.map((e) => [
                modeString(e.stat),
                String(e.stat.nlink),
                String(e.stat.uid),
                String(e.stat.gid),
                e.stat.rdev ? `${e.stat.rdev[0]}, ${e.stat.rdev[1]}` : String(e.stat.size),
                timeString(e.stat.mtime),
                e.link !== undefined ? `${e.name} -> ${e.link}` : e.name,
              ]),
            ),
          );
          return 0;
        } finally {
          await root.close();
        }
      }),
    );
}
