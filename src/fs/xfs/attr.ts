/**
 * Extended attributes in the attribute fork, in every on-disk form: short form inside the inode, a
 * single leaf block, and a dabtree of node blocks over chained leaf blocks (the fork mapped by an
 * extent list or an extent B+tree). Values too large for a leaf live in remote blocks (v5: with a
 * self-describing header per block). Listing follows the leaf chain as the kernel's listxattr does.
 */
import { ImageFormatError } from "../../errors.js";
import type { Xattr } from "../types.js";
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  type AclEntry,
  encodeAclXattr,
  XATTR_SIZE_MAX,
} from "../xattr.js";
import { checkV5Header, type XfsContext } from "./context.js";
import { forkExtentsInRange } from "./extents.js";
import { FORMAT, type XfsFork, type XfsInode } from "./inode.js";

/** Attribute name flags (xfs_attr_leaf_entry.flags and the short-form entry's flags). */
const ATTR_LOCAL = 0x01;
const ATTR_ROOT = 0x02;
const ATTR_SECURE = 0x04;
const ATTR_PARENT = 0x08;
const ATTR_INCOMPLETE = 0x80;

const MAGIC = {
  leaf: 0xfbee,
  leaf3: 0x3bee,
  node: 0xfebe,
  node3: 0x3ebe,
  remote3: 0x5841524d, // "XARM"
} as const;
/** Header bytes of a v5 remote value block. */
const REMOTE3_HDR = 56;
/** The kernel's XFS_DA_NODE_MAXDEPTH. */
const MAX_NODE_DEPTH = 5;
/** Bounds on one inode's listing, so a corrupt leaf chain cannot grow it without end. */
const MAX_LEAVES = 65536;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

const SGI_ACL_FILE = "SGI_ACL_FILE";
const SGI_ACL_DEFAULT = "SGI_ACL_DEFAULT";

function bad(ino: number, what: string): never {
  throw new ImageFormatError(`xfs: inode ${ino} attributes: ${what}`);
}

/** One stored attribute before its value is fetched. */
interface Entry {
  readonly flags: number;
  readonly name: Buffer;
  /** The value when it is stored locally. */
  readonly local?: Buffer;
  /** Where a remote value lives: first attribute-fork block and length. */
  readonly remote?: { readonly block: number; readonly length: number };
}

/** Every attribute of `inode` that Linux lists, in on-disk order. */
export async function readXattrs(ctx: XfsContext, inode: XfsInode): Promise<Xattr[]> {
  const fork = inode.attr;
  if (!fork) return [];
  const ino = inode.ino;
  let entries: Entry[];
  if (fork.format === FORMAT.LOCAL) entries = shortFormEntries(ino, fork.bytes);
  else if (fork.format === FORMAT.EXTENTS || fork.format === FORMAT.BTREE) {
    entries = fork.nextents === 0 && fork.format === FORMAT.EXTENTS ? [] : await leafEntries(ctx, ino, fork);
  } else bad(ino, `attribute fork format ${fork.format} is invalid`);

  const out: Xattr[] = [];
  let total = 0;
  for (const e of entries) {
    if (e.flags & (ATTR_INCOMPLETE | ATTR_PARENT)) continue;
    const value = e.local ?? (await remoteValue(ctx, ino, fork, e.remote!));
    total += value.length + e.name.length;
    if (total > MAX_TOTAL_BYTES) bad(ino, `more than ${MAX_TOTAL_BYTES} bytes of attributes`);
    const name = e.name.toString("utf8");
    if (e.flags & ATTR_ROOT) {
      // An ACL shows twice, as the kernel lists it: converted under its system name, and as stored.
      const acl =
        name === SGI_ACL_FILE ? ACL_ACCESS_XATTR : name === SGI_ACL_DEFAULT ? ACL_DEFAULT_XATTR : "";
      if (acl) out.push({ name: acl, value: aclToXattr(ino, acl, value) });
      out.push({ name: `trusted.${name}`, value: Buffer.from(value) });
    } else {
      out.push({ name: `${e.flags & ATTR_SECURE ? "security" : "user"}.${name}`, value: Buffer.from(value) });
    }
  }
  return out;
}

/** Short form: a 4-byte header (total size, count) and packed (namelen, valuelen, flags, name, value) entries. */
function shortFormEntries(ino: number, fork: Buffer): Entry[] {
  if (fork.length < 4) bad(ino, "short-form header is truncated");
  const total = fork.readUInt16BE(0);
  const count = fork[2]!;
  if (total < 4 || total > fork.length)
    bad(ino, `short-form size ${total} does not fit the ${fork.length}-byte fork`);
  const out: Entry[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 3 > total) bad(ino, `short-form entry ${i} runs past the end`);
    const nameLen = fork[at]!;
    const valueLen = fork[at + 1]!;
    const end = at + 3 + nameLen + valueLen;
    if (nameLen === 0 || end > total) bad(ino, `short-form entry ${i} runs past the end`);
    const name = fork.subarray(at + 3, at + 3 + nameLen);
    out.push({ flags: fork[at + 2]!, name, local: fork.subarray(at + 3 + nameLen, end) });
    at = end;
  }
  return out;
}

/** The attribute-fork block `blk` (one filesystem block), with its disk byte offset. */
async function forkBlock(ctx: XfsContext, ino: number, fork: XfsFork, blk: number) {
  const [e] = await forkExtentsInRange(ctx, ino, fork, blk, blk + 1);
  if (!e || e.fileBlock > blk) bad(ino, `attribute block ${blk} is not mapped`);
  if (e.unwritten) bad(ino, `attribute block ${blk} is unwritten`);
  const byteOffset = (e.block + (blk - e.fileBlock)) * ctx.sb.blockSize;
  return { buf: await ctx.cache.read(byteOffset, ctx.sb.blockSize), byteOffset };
}

/** Leaf and node forms: descend the leftmost path from block 0 to the first leaf, then follow the chain. */
async function leafEntries(ctx: XfsContext, ino: number, fork: XfsFork): Promise<Entry[]> {
  const v5 = ctx.sb.version === 5;
  let blk = 0;
  let depth = 0;
  for (;;) {
    const { buf, byteOffset } = await forkBlock(ctx, ino, fork, blk);
    const magic = buf.readUInt16BE(8);
    if (magic === (v5 ? MAGIC.leaf3 : MAGIC.leaf)) break;
    if (magic !== (v5 ? MAGIC.node3 : MAGIC.node)) {
      bad(ino, `block ${blk} has bad magic 0x${magic.toString(16)} (not an attribute leaf or node)`);
    }
    const what = `inode ${ino} attribute node block ${blk}`;
    if (v5)
      checkV5Header(ctx, buf, { crc: 12, blkno: 16, uuid: 32, owner: 48 }, { byteOffset, owner: ino }, what);
    const hdr = v5 ? 64 : 16;
    const count = buf.readUInt16BE(hdr - (v5 ? 8 : 4));
    const level = buf.readUInt16BE(hdr - (v5 ? 6 : 2));
    if (++depth > MAX_NODE_DEPTH || level < 1 || level > MAX_NODE_DEPTH) {
      bad(ino, `attribute dabtree deeper than ${MAX_NODE_DEPTH} levels`);
    }
    if (count < 1 || hdr + count * 8 > buf.length) bad(ino, `node block ${blk} claims ${count} entries`);
    blk = buf.readUInt32BE(hdr + 4); // the first entry's "before" pointer
  }

  const out: Entry[] = [];
  const seen = new Set<number>();
  while (blk !== 0 || seen.size === 0) {
    if (seen.has(blk)) bad(ino, `the leaf chain loops back to block ${blk}`);
    if (seen.size >= MAX_LEAVES) bad(ino, `more than ${MAX_LEAVES} leaf blocks`);
    seen.add(blk);
    const { buf, byteOffset } = await forkBlock(ctx, ino, fork, blk);
    leafBlockEntries(ctx, ino, blk, buf, byteOffset, out);
    blk = buf.readUInt32BE(0); // forw
  }
  return out;
}

/** Entries of one leaf block ("XFS_ATTR_LEAF" v4, "XFS_ATTR3_LEAF" v5), in hash order. */
function leafBlockEntries(
  ctx: XfsContext,
  ino: number,
  blk: number,
  buf: Buffer,
  byteOffset: number,
  out: Entry[],
): void {
  const v5 = ctx.sb.version === 5;
  const magic = buf.readUInt16BE(8);
  if (magic !== (v5 ? MAGIC.leaf3 : MAGIC.leaf))
    bad(ino, `leaf block ${blk} has bad magic 0x${magic.toString(16)}`);
  const what = `inode ${ino} attribute leaf block ${blk}`;
  if (v5)
    checkV5Header(ctx, buf, { crc: 12, blkno: 16, uuid: 32, owner: 48 }, { byteOffset, owner: ino }, what);
  const hdr = v5 ? 80 : 32;
  const count = buf.readUInt16BE(v5 ? 56 : 12);
  if (hdr + count * 8 > buf.length) bad(ino, `leaf block ${blk} claims ${count} entries`);
  for (let i = 0; i < count; i++) {
    const at = hdr + i * 8;
    const nameAt = buf.readUInt16BE(at + 4);
    const flags = buf[at + 6]!;
    const where = `leaf block ${blk} entry ${i}`;
    if (nameAt < hdr + count * 8 || nameAt >= buf.length) bad(ino, `${where} points outside the block`);
    if (flags & ATTR_LOCAL) {
      if (nameAt + 3 > buf.length) bad(ino, `${where} runs past the end of the block`);
      const valueLen = buf.readUInt16BE(nameAt);
      const nameLen = buf[nameAt + 2]!;
      const end = nameAt + 3 + nameLen + valueLen;
      if (nameLen === 0 || end > buf.length) bad(ino, `${where} runs past the end of the block`);
      out.push({
        flags,
        name: buf.subarray(nameAt + 3, nameAt + 3 + nameLen),
        local: buf.subarray(nameAt + 3 + nameLen, end),
      });
    } else {
      if (nameAt + 9 > buf.length) bad(ino, `${where} runs past the end of the block`);
      const nameLen = buf[nameAt + 8]!;
      if (nameLen === 0 || nameAt + 9 + nameLen > buf.length)
        bad(ino, `${where} runs past the end of the block`);
      out.push({
        flags,
        name: buf.subarray(nameAt + 9, nameAt + 9 + nameLen),
        remote: { block: buf.readUInt32BE(nameAt), length: buf.readUInt32BE(nameAt + 4) },
      });
    }
  }
}

/** A value kept in remote blocks of the attribute fork (v5: each block carries a checked header). */
async function remoteValue(
  ctx: XfsContext,
  ino: number,
  fork: XfsFork,
  remote: { readonly block: number; readonly length: number },
): Promise<Buffer> {
  const { sb } = ctx;
  const v5 = sb.version === 5;
  const { block, length } = remote;
  if (length > XATTR_SIZE_MAX) bad(ino, `a remote value claims ${length} bytes`);
  if (length === 0) return Buffer.alloc(0);
  const perBlock = sb.blockSize - (v5 ? REMOTE3_HDR : 0);
  const blocks = Math.ceil(length / perBlock);
  const out = Buffer.alloc(length);
  let have = 0;
  let next = block;
  for (const e of await forkExtentsInRange(ctx, ino, fork, block, block + blocks)) {
    if (e.fileBlock > next) bad(ino, `remote value block ${next} is not mapped`);
    if (e.unwritten) bad(ino, `remote value block ${next} is unwritten`);
    for (; next < Math.min(e.fileBlock + e.count, block + blocks); next++) {
      const byteOffset = (e.block + (next - e.fileBlock)) * sb.blockSize;
      const buf = await ctx.cache.read(byteOffset, sb.blockSize);
      const take = Math.min(perBlock, length - have);
      if (v5) {
        const magic = buf.readUInt32BE(0);
        if (magic !== MAGIC.remote3)
          bad(ino, `remote value block ${next} has bad magic 0x${magic.toString(16)}`);
        const what = `inode ${ino} remote attribute value block ${next}`;
        checkV5Header(
          ctx,
          buf,
          { crc: 12, blkno: 40, uuid: 16, owner: 32 },
          { byteOffset, owner: ino },
          what,
        );
        if (buf.readUInt32BE(4) !== have || buf.readUInt32BE(8) !== take) {
          bad(
            ino,
            `remote value block ${next} holds bytes [${buf.readUInt32BE(4)}, +${buf.readUInt32BE(8)}), expected [${have}, +${take})`,
          );
        }
      }
      buf.copy(out, have, v5 ? REMOTE3_HDR : 0, (v5 ? REMOTE3_HDR : 0) + take);
      have += take;
    }
  }
  if (have !== length) bad(ino, `only ${have} of a ${length}-byte remote value are mapped`);
  return out;
}

/** XFS's ACL encoding (a big-endian count and 12-byte entries) in the kernel's xattr form. */
function aclToXattr(ino: number, name: string, disk: Buffer): Buffer {
  const count = disk.length >= 4 ? disk.readUInt32BE(0) : -1;
  if (count < 0 || disk.length !== 4 + count * 12)
    bad(ino, `${name} is not a valid ACL (${disk.length} bytes)`);
  const entries: AclEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 12;
    entries.push({
      tag: disk.readUInt32BE(at),
      id: disk.readUInt32BE(at + 4),
      perm: disk.readUInt16BE(at + 8),
    });
  }
  return encodeAclXattr(entries, `xfs: inode ${ino}: ${name}`);
}
