/**
 * Extended attributes across readers: the get-one helper, and the kernel's xattr form of POSIX ACLs
 * that both XFS and ext4 store in their own on-disk encodings.
 */
import { ImageFormatError } from "../errors.js";
import type { Filesystem, Xattr } from "./types.js";

export const ACL_ACCESS_XATTR = "system.posix_acl_access";
export const ACL_DEFAULT_XATTR = "system.posix_acl_default";
/** Largest value Linux's getxattr returns (XATTR_SIZE_MAX); larger stored values are corrupt. */
export const XATTR_SIZE_MAX = 65536;

/** The value of attribute `name` (with its namespace prefix, e.g. "security.selinux"), or undefined. */
export async function getXattr(fs: Filesystem, ino: number, name: string): Promise<Buffer | undefined> {
  return xattrValue(await fs.listXattrs(ino), name);
}

/** The value of attribute `name` in a listing, or undefined. */
export function xattrValue(list: readonly Xattr[], name: string): Buffer | undefined {
  return list.find((x) => x.name === name)?.value;
}

/** ACL entry tags (the same numbers in every encoding). */
export const ACL_TAG = {
  USER_OBJ: 0x1,
  USER: 0x2,
  GROUP_OBJ: 0x4,
  GROUP: 0x8,
  MASK: 0x10,
  OTHER: 0x20,
} as const;
const KNOWN_TAGS = new Set<number>(Object.values(ACL_TAG));

export interface AclEntry {
  readonly tag: number;
  readonly perm: number;
  /** The uid or gid of USER and GROUP entries; ignored for the others. */
  readonly id: number;
}

const POSIX_ACL_XATTR_VERSION = 2;
const ACL_UNDEFINED_ID = 0xffffffff;

/**
 * The value Linux's getxattr returns for an ACL (posix_acl_xattr_header + entries, little-endian);
 * `what` names the attribute in the error for an unknown tag.
 */
export function encodeAclXattr(entries: readonly AclEntry[], what: string): Buffer {
  const out = Buffer.alloc(4 + entries.length * 8);
  out.writeUInt32LE(POSIX_ACL_XATTR_VERSION, 0);
  entries.forEach((e, i) => {
    if (!KNOWN_TAGS.has(e.tag))
      throw new ImageFormatError(`${what}: unknown ACL entry tag 0x${e.tag.toString(16)}`);
    const at = 4 + i * 8;
    out.writeUInt16LE(e.tag, at);
    out.writeUInt16LE(e.perm & 0xffff, at + 2);
    const named = e.tag === ACL_TAG.USER || e.tag === ACL_TAG.GROUP;
    out.writeUInt32LE(named ? e.id >>> 0 : ACL_UNDEFINED_ID, at + 4);
  });
  return out;
}
