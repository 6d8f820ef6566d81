import { isUtf8 } from "node:buffer";
import type { Command } from "commander";
import { EXIT_FAILURE } from "../../errors.js";
import type { InodeStat } from "../../fs/types.js";
import { xattrValue } from "../../fs/xattr.js";
import { type ListingEntry, listPath } from "../../inspect/listing.js";
import { openImageRoot } from "../../inspect/root.js";
import { escapeTerminal, unescapeTerminal } from "../../text.js";
import { parsePartitionOption, splitImagePath } from "../image-arg.js";
import { action, printJson, printLines, table, warn } from "../util.js";

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

const SELINUX = "security.selinux";

/** An attribute value as getfattr shows it: quoted text when it is text (a trailing NUL allowed), else hex. */
function xattrText(value: Buffer): string {
  const body = value.at(-1) === 0 ? value.subarray(0, -1) : value;
  const text = body.toString("utf8");
  const isText = body.length > 0 && isUtf8(body) && !/[\x00-\x1f\x7f]/.test(text);
  return isText ? `"${escapeTerminal(text)}"` : `0x${value.toString("hex")}`;
}

/** The SELinux context of an entry, without its trailing NUL, or "?" (as ls -Z prints it). */
function context(e: ListingEntry): string {
  const label = e.xattrs && xattrValue(e.xattrs, SELINUX);
  if (!label) return "?";
  return escapeTerminal(label.at(-1) === 0 ? label.subarray(0, -1) : label);
}

function jsonEntry(e: ListingEntry, withContext: boolean, withXattrs: boolean) {
  return {
    name: e.name,
    ...(e.rawName ? { rawName: e.rawName.toString("hex") } : {}),
    ...(e.stat ?? { ino: e.ino }),
    ...(e.target !== undefined ? { target: e.target } : {}),
    ...(withContext ? { context: context(e) === "?" ? null : context(e) } : {}),
    ...(withXattrs && e.xattrs
      ? { xattrs: e.xattrs.map((x) => ({ name: x.name, value: x.value.toString("hex") })) }
      : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  };
}

function textRows(e: ListingEntry, withContext: boolean): string[] {
  // A listed file (not a directory) is named by its path as typed, which may be in escaped form.
  const name = escapeTerminal(e.rawName ?? (e.name.startsWith("/") ? unescapeTerminal(e.name) : e.name));
  const st = e.stat;
  const shown = e.target !== undefined ? `${name} -> ${escapeTerminal(e.target)}` : name;
  const cells = st
    ? [
        modeString(st),
        String(st.nlink),
        String(st.uid),
        String(st.gid),
        ...(withContext ? [context(e)] : []),
        st.rdev ? `${st.rdev[0]}, ${st.rdev[1]}` : String(st.size),
        timeString(st.mtime),
      ]
    : ["??????????", "?", "?", "?", ...(withContext ? ["?"] : []), "?", "?"];
  return [...cells, e.error !== undefined ? `${shown}  (unreadable: ${escapeTerminal(e.error)})` : shown];
}

export function register(program: Command): void {
  program
    .command("ls")
    .description("list a directory inside a disk image's root filesystem (no mount, no root)")
    .argument("<image[:path]>", "disk image, optionally followed by :/absolute/path (default /)")
    .option("--partition <N>", "read partition N instead of the OS root")
    .option("-Z, --context", "show each entry's SELinux label (security.selinux), as ls -Z does")
    .option("--xattrs", "show each entry's extended attributes under it, as getfattr -d -m - does")
    .option("--json", "machine-readable entries")
    .addHelpText(
      "after",
      [
        "",
        "Names are printed with control characters, backslashes and bytes that are not UTF-8 escaped",
        "(\\xNN, \\\\); the escaped form addresses the file in ls and cat paths. An entry whose inode",
        "cannot be read is listed with the reason, and the exit code is 1.",
        "",
        "Examples:",
        "  cloud-images ls disk.qcow2",
        "  cloud-images ls -Z disk.qcow2:/etc/ssh",
        "  cloud-images ls --xattrs disk.qcow2:/etc/shadow",
      ].join("\n"),
    )
    .action(
      action(
        async (
          arg: string,
          opts: { partition?: string; json?: boolean; context?: boolean; xattrs?: boolean },
        ) => {
          const { image, path } = splitImagePath(arg, "/");
          const partition = parsePartitionOption(opts.partition);
          const root = await openImageRoot(image, partition !== undefined ? { partition } : {});
          try {
            const withContext = opts.context === true;
            const entries = await listPath(root.paths, path, { xattrs: withContext || opts.xattrs === true });
            const failed = entries.filter((e) => e.error !== undefined).length;
            if (opts.json) printJson(entries.map((e) => jsonEntry(e, withContext, opts.xattrs === true)));
            else {
              const lines = table(entries.map((e) => textRows(e, withContext)));
              if (opts.xattrs) {
                const out: string[] = [];
                entries.forEach((e, i) => {
                  out.push(lines[i]!);
                  for (const x of e.xattrs ?? [])
                    out.push(`    ${escapeTerminal(x.name)}=${xattrText(x.value)}`);
                });
                printLines(out);
              } else printLines(lines);
            }
            if (failed > 0) warn(`${failed} entr${failed === 1 ? "y" : "ies"} could not be read`);
            return failed > 0 ? EXIT_FAILURE : 0;
          } finally {
            await root.close();
          }
        },
      ),
    );
}
