/**
 * ext4 extended attributes: the entry tables in the inode (after i_extra_isize) and in the i_file_acl
 * block, their names as Linux lists them, and ext4's compact POSIX ACL encoding.
 */
import { ImageFormatError } from "../../errors.js";
import { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR, ACL_TAG, type AclEntry, encodeAclXattr } from "../xattr.js";

/** Starts the in-inode attribute area and the attribute block. */
export const XATTR_MAGIC = 0xea020000;
/** The attribute block's header (magic, refcount, blocks, hash, checksum, reserved); entries follow. */
export const XATTR_BLOCK_HEADER = 32;
/** Byte offset of h_checksum in the attribute block. */
export const XATTR_BLOCK_CSUM = 0x10;
/** Name index of ext4's own "system." attributes (inline data lives in system.data); never listed. */
export const XATTR_INDEX_SYSTEM = 7;
const INDEX_ACL_ACCESS = 2;
const INDEX_ACL_DEFAULT = 3;
/** The name indexes Linux lists, with their prefixes (the ACL indexes have fixed full names). */
const PREFIXES: Readonly<Record<number, string>> = { 1: "user.", 4: "trusted.", 6: "security.", 10: "gnu." };

const ENTRY_HEADER = 16;

export interface XattrEntry {
  readonly index: number;
  readonly name: Buffer;
  /** Where the value starts in the buffer the table was read from (when valueInum is 0). */
  readonly valueAt: number;
  /** The inode holding the value (ea_inode feature), or 0. */
  readonly valueInum: number;
  readonly valueSize: number;
}

/**
 * The entry table starting at `start` in `buf`, value offsets counted from `valueBase`, checked as the
 * kernel checks it: entries inside the buffer and ended by a zero word, in-buffer values placed after
 * the table and inside the buffer. `what` names the table in errors.
 */
export function parseXattrEntries(buf: Buffer, start: number, valueBase: number, what: string): XattrEntry[] {
  const bad = (why: string) => new ImageFormatError(`ext4: ${what}: ${why}`);
  const entries: XattrEntry[] = [];
  let off = start;
  for (;;) {
    if (off + 4 > buf.length) throw bad("the attribute table has no end marker");
    if (buf.readUInt32LE(off) === 0) break;
    if (off + ENTRY_HEADER > buf.length) throw bad(`attribute entry at byte ${off} runs past the end`);
    const nameLen = buf[off]!;
    const next = off + ((ENTRY_HEADER + nameLen + 3) & ~3);
    if (next > buf.length) throw bad(`attribute entry at byte ${off} runs past the end`);
    entries.push({
      index: buf[off + 1]!,
      name: buf.subarray(off + ENTRY_HEADER, off + ENTRY_HEADER + nameLen),
      valueAt: valueBase + buf.readUInt16LE(off + 2),
      valueInum: buf.readUInt32LE(off + 4),
      valueSize: buf.readUInt32LE(off + 8),
    });
    off = next;
  }
  const tableEnd = off + 4;
  for (const e of entries) {
    if (e.valueInum !== 0 || e.valueSize === 0) continue;
    if (e.valueAt < tableEnd || e.valueAt + e.valueSize > buf.length) {
      throw bad(`the value of an attribute (${e.valueSize} bytes at ${e.valueAt}) lies outside its area`);
    }
  }
  return entries;
}

/** The in-buffer value of an entry (entries whose value lives in an EA inode have none here). */
export function entryValue(buf: Buffer, e: XattrEntry): Buffer {
  return buf.subarray(e.valueAt, e.valueAt + e.valueSize);
}

/** The value of the in-inode attribute `name` in index `index`, or undefined (EA inode values refused). */
export function findXattr(area: Buffer, index: number, name: string, what: string): Buffer | undefined {
  if (area.length === 0) return undefined;
  const want = Buffer.from(name);
  for (const e of parseXattrEntries(area, 0, 0, what)) {
    if (e.index !== index || !e.name.equals(want)) continue;
    if (e.valueInum !== 0)
      throw new ImageFormatError(`ext4: ${what}: system.${name} is stored in another inode`);
    return entryValue(area, e);
  }
  return undefined;
}

/**
 * The name Linux lists for an entry, or undefined for ext4-internal ones (system.data, encryption
 * contexts) and unknown indexes, which listxattr does not show either.
 */
export function xattrName(e: XattrEntry): string | undefined {
  if (e.index === INDEX_ACL_ACCESS) return ACL_ACCESS_XATTR;
  if (e.index === INDEX_ACL_DEFAULT) return ACL_DEFAULT_XATTR;
  const prefix = PREFIXES[e.index];
  return prefix === undefined ? undefined : prefix + e.name.toString("utf8");
}

export function isAclIndex(index: number): boolean {
  return index === INDEX_ACL_ACCESS || index === INDEX_ACL_DEFAULT;
}

const EXT4_ACL_VERSION = 1;

/** ext4's ACL encoding (version 1; 4-byte entries, 8 bytes for named users and groups) in the kernel's xattr form. */
export function aclToXattr(disk: Buffer, what: string): Buffer {
  const bad = (why: string) => new ImageFormatError(`ext4: ${what}: ${why}`);
  if (disk.length < 4 || disk.readUInt32LE(0) !== EXT4_ACL_VERSION) throw bad("ACL has an unknown version");
  const entries: AclEntry[] = [];
  let at = 4;
  while (at < disk.length) {
    if (at + 4 > disk.length) throw bad("ACL entry is truncated");
    const tag = disk.readUInt16LE(at);
    const perm = disk.readUInt16LE(at + 2);
    if (tag === ACL_TAG.USER || tag === ACL_TAG.GROUP) {
      if (at + 8 > disk.length) throw bad("ACL entry is truncated");
      entries.push({ tag, perm, id: disk.readUInt32LE(at + 4) });
      at += 8;
    } else {
      entries.push({ tag, perm, id: 0 });
      at += 4;
    }
  }
  return encodeAclXattr(entries, `ext4: ${what}`);
}
