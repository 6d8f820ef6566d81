/**
 * A writer for the cpio "newc" format (what the kernel unpacks as an initramfs). Entries are written with
 * uid/gid 0 and mtime 0, so the same inputs always give the same bytes, and device nodes need no root.
 */

import { UsageError } from "../../../src/errors.js";

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const HEADER_BYTES = 110;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  nameBytes: number;
}): Buffer {
  const values = [
    fields.ino,
    fields.mode,
    0, // uid
    0, // gid
    fields.nlink,
    0, // mtime
    fields.size,
    0, // devmajor
    0, // devminor
    fields.rdevMajor,
    fields.rdevMinor,
    fields.nameBytes,
    0, // check (only for the "070702" variant)
  ];
  return Buffer.from(`070701${values.map(hex8).join("")}`, "ascii");
}

function record(ino: number, path: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]) {
  const name = Buffer.from(`${path}\0`, "utf8");
  const head = header({
    ino,
    mode,
    nlink: (mode & 0o170000) === S_IFDIR ? 2 : 1,
    size: data.length,
    rdevMajor: rdev[0],
    rdevMinor: rdev[1],
    nameBytes: name.length,
  });
  return [head, name, pad4(HEADER_BYTES + name.length), data, pad4(data.length)];
}

/** The archive holding `entries` in order (parents before children), ended by the TRAILER!!! record. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+|\/+$/g, "");
    if (!path)
      throw new UsageError(`cpio: entry "${e.path}" has an empty path (valid: a relative or absolute path)`);
    switch (e.kind) {
      case "dir":
        parts.push(...record(ino++, path, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0)));
        break;
      case "file":
        parts.push(...record(ino++, path, S_IFREG | (e.mode ?? 0o644), e.data));
        break;
      case "symlink":
        parts.push(...record(ino++, path, S_IFLNK | 0o777, Buffer.from(e.target, "utf8")));
        break;
      case "chardev":
        parts.push(...record(ino++, path, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]));
        break;
    }
  }
  parts.push(...record(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
