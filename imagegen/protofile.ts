/**
 * mkfs.xfs protofile (`mkfs.xfs -p FILE`) for a staged directory tree, so mkfs.xfs fills the filesystem
 * itself and nothing is mounted. Format: a boot-image line, a "blocks inodes" line, then the root
 * directory's mode line and, depth-indented, one line per entry (`name mode uid gid [source|target]`);
 * `$` closes a directory. Modes are 6 characters: type (- d l b c p), setuid (u/-), setgid (g/-) and 3
 * octal digits. The format cannot carry the sticky bit (see stickyEntries), times, hard links, xattrs, or names with
 * whitespace or colons. Symlink targets must fit in the inode: mkfs.xfs 6.1 writes remote symlink blocks
 * without their v5 header (xfs_repair -n then reports a bad symlink and a corrupt directory).
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../src/errors.js";

function modeString(st: Stats, type: string): string {
  const suid = st.mode & 0o4000 ? "u" : "-";
  const sgid = st.mode & 0o2000 ? "g" : "-";
  return `${type}${suid}${sgid}${(st.mode & 0o777).toString(8).padStart(3, "0")}`;
}

/** Inline symlink limit of a 512-byte v5 inode without an attribute fork (literal area 336), kept safe. */
export const MAX_SYMLINK_TARGET = 320;

function checkToken(s: string, what: string): void {
  if (s === "" || /[\s:]/.test(s)) {
    throw new UsageError(
      `imagegen: ${what} "${s}" cannot go into an XFS protofile (valid: no spaces or colons)`,
    );
  }
}

/** Paths (inside the tree) and full modes of entries with the sticky bit, which protofiles cannot set. */
export function stickyEntries(root: string): { path: string; mode: number }[] {
  const top = resolve(root);
  const out: { path: string; mode: number }[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const st = lstatSync(join(dir, name));
      if (st.mode & 0o1000) out.push({ path: `${rel}/${name}`, mode: st.mode });
      if (st.isDirectory()) walk(join(dir, name), `${rel}/${name}`);
    }
  };
  walk(top, "");
  return out;
}

/** The protofile text for `root` (entries sorted by name; owners as stored in the tree). */
export function protofile(root: string): string {
  const top = resolve(root);
  const lines = ["imagegen", "0 0", `${modeString(lstatSync(top), "d")} 0 0`];
  const walk = (dir: string, depth: number): void => {
    const indent = " ".repeat(depth);
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      checkToken(name, "file name");
      const owner = `${st.uid} ${st.gid}`;
      if (st.isDirectory()) {
        lines.push(`${indent}${name} ${modeString(st, "d")} ${owner}`);
        walk(p, depth + 1);
        lines.push(`${indent}$`);
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(p);
        checkToken(target, "symlink target");
        if (Buffer.byteLength(target) > MAX_SYMLINK_TARGET) {
          throw new UsageError(
            `imagegen: symlink ${p} has a ${Buffer.byteLength(target)}-byte target (valid: at most ${MAX_SYMLINK_TARGET} on XFS)`,
          );
        }
        lines.push(`${indent}${name} ${modeString(st, "l")} ${owner} ${target}`);
      } else if (st.isFile()) {
        checkToken(p, "source path");
        lines.push(`${indent}${name} ${modeString(st, "-")} ${owner} ${p}`);
      } else {
        throw new UsageError(`imagegen: ${p} is not a file, directory or symlink (valid: those three)`);
      }
    }
  };
  walk(top, 1);
  lines.push("$", "");
  return lines.join("\n");
}
