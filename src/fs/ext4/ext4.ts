/**
 * Read-only ext2/ext3/ext4 reader. It reads only what a request needs: the superblock, the one group
 * descriptor block and inode table block holding an inode, and the blocks of that inode's tree.
 * Metadata blocks and inodes sit in small LRU caches; file data is read straight from the source.
 */
import type { ByteSource } from "../../disk/source.js";
import { MAX_READ, readInto } from "../../disk/source.js";
import { ImageFormatError, UsageError } from "../../errors.js";
import { entryFor } from "../names.js";
import type { CleanState, DirEntry, Filesystem, InodeStat, Xattr } from "../types.js";
import { XATTR_SIZE_MAX } from "../xattr.js";
import { type BlockRun, checkBlocks, type MapContext } from "./blockmap.js";
import { inodeChecksumOk, xattrBlockChecksumOk } from "./checksum.js";
import { parseDirBlock, type RawDirEntry } from "./dirent.js";
import { ExtentMapper } from "./extents.js";
import { dirHash, noKeyName } from "./hash.js";
import { mapIndirect } from "./indirect.js";
import { I_BLOCK_SIZE, INODE_FLAG, type Inode, parseInode, toStat } from "./inode.js";
import { Lru } from "./lru.js";
import {
  COMPAT,
  cleanStateOf,
  featureNames,
  INCOMPAT,
  parseSuperblock,
  RO_COMPAT,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  type Superblock,
} from "./superblock.js";
import {
  aclToXattr,
  entryValue,
  findXattr,
  isAclIndex,
  parseXattrEntries,
  XATTR_BLOCK_HEADER,
  XATTR_INDEX_SYSTEM,
  XATTR_MAGIC,
  type XattrEntry,
  xattrName,
} from "./xattr.js";

const ROOT_INO = 2;
/** Group descriptor flag: the group's inode table was never initialised (uninit_bg / metadata_csum). */
const BG_INODE_UNINIT = 0x1;
/** Longest symlink target we accept (the kernel's is PATH_MAX - 1). */
const MAX_SYMLINK = 65536;
/** Metadata block cache; big enough to hold the inode table blocks a walk of a large directory touches. */
const BLOCK_CACHE_BYTES = 8 << 20;
/** Largest directory we list: corrupt sizes and trees must not make us build endless entry lists. */
export const MAX_DIR_ENTRIES = 1_000_000;
/** Directory blocks read per source read. */
const DIR_BATCH_BYTES = 1 << 20;

interface Group {
  readonly inodeTable: number;
  readonly flags: number;
}

export class Ext4Filesystem implements Filesystem {
  readonly type = "ext4" as const;
  readonly rootIno = ROOT_INO;
  readonly label: string;
  readonly uuid: string;
  readonly blockSize: number;
  /** What the feature set makes this: ext4 (extents, 64bit, flex_bg...), ext3 (journal) or ext2. */
  readonly variant: "ext2" | "ext3" | "ext4";
  /** Feature names as dumpe2fs prints them (has_journal, extent, 64bit, metadata_csum...). */
  readonly features: readonly string[];
  /** The journal holds transactions that were never replayed: recent changes may be missing. */
  readonly needsRecovery: boolean;

  private readonly blocks: Lru<number, Buffer>;
  private readonly inodes = new Lru<number, Inode>(1024);
  private readonly extents: ExtentMapper;
  private readonly ctx: MapContext;

  private constructor(
    private readonly source: ByteSource,
    readonly sb: Superblock,
  ) {
    this.label = sb.label;
    this.uuid = sb.uuid;
    this.blockSize = sb.blockSize;
    const ext4Bits =
      INCOMPAT.extent | INCOMPAT["64bit"] | INCOMPAT.flex_bg | INCOMPAT.inline_data | INCOMPAT.meta_bg;
    this.variant = sb.incompat & ext4Bits ? "ext4" : sb.compat & COMPAT.has_journal ? "ext3" : "ext2";
    this.features = featureNames(sb);
    this.needsRecovery = (sb.incompat & INCOMPAT.needs_recovery) !== 0;
    this.ctx = {
      blockSize: sb.blockSize,
      blocksCount: sb.blocksCount,
      metaBlock: (block) => this.metaBlock(block),
    };
    this.extents = new ExtentMapper(this.ctx);
    this.blocks = new Lru(Math.max(16, Math.floor(BLOCK_CACHE_BYTES / sb.blockSize)));
  }

  static async open(source: ByteSource): Promise<Ext4Filesystem> {
    if (source.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
      throw new ImageFormatError(`ext4: ${source.size} bytes is too small to hold a filesystem`);
    }
    const sb = parseSuperblock(await source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE), source.size);
    const fs = new Ext4Filesystem(source, sb);
    const root = await fs.inode(ROOT_INO);
    if (root.type !== "dir") throw new ImageFormatError("ext4: the root inode is not a directory");
    return fs;
  }

  async stat(ino: number): Promise<InodeStat> {
    return toStat(await this.inode(ino));
  }

  async readDir(ino: number): Promise<DirEntry[]> {
    const dir = await this.inode(ino);
    if (dir.type !== "dir") throw new UsageError(`ext4: inode ${ino} is not a directory`);
    const encrypted = (dir.flags & INODE_FLAG.encrypt) !== 0;
    const opts = {
      ino,
      blockSize: this.blockSize,
      inodesCount: this.sb.inodesCount,
      hashAfterName: encrypted && (dir.flags & INODE_FLAG.casefold) !== 0,
    };
    const raw: RawDirEntry[] = [];
    if (dir.flags & INODE_FLAG.inlineData) {
      // i_block holds the parent's inode number, then entries; more entries may follow in system.data.
      parseDirBlock(dir.block.subarray(4), opts, raw);
      const more = findXattr(dir.xattrArea, XATTR_INDEX_SYSTEM, "data", `inode ${ino}`);
      if (more && more.length > 0) parseDirBlock(more, opts, raw);
    } else {
      await this.forEachDirBlockRun(dir, (blocks) => {
        for (let off = 0; off < blocks.length; off += this.blockSize) {
          parseDirBlock(blocks.subarray(off, off + this.blockSize), opts, raw);
        }
        if (raw.length > MAX_DIR_ENTRIES) {
          throw new ImageFormatError(`ext4: directory inode ${ino} has more than ${MAX_DIR_ENTRIES} entries`);
        }
      });
    }
    if (!encrypted) return raw.map((e) => entryFor(e.name, e.ino));

    const version = dir.flags & INODE_FLAG.index ? await this.dxHashVersion(dir) : this.sb.defHashVersion;
    return raw.map((e) => ({
      name: noKeyName(
        e.name,
        e.storedHash ?? dirHash(e.name, version, this.sb.hashSeed, this.sb.unsignedHash),
      ),
      ino: e.ino,
    }));
  }

  async readLink(ino: number): Promise<string> {
    const inode = await this.inode(ino);
    if (inode.type !== "symlink") throw new UsageError(`ext4: inode ${ino} is not a symbolic link`);
    if (inode.flags & INODE_FLAG.encrypt) {
      throw new ImageFormatError(
        `ext4: symlink inode ${ino} is encrypted (fscrypt) and its key is not available`,
      );
    }
    if (inode.size > MAX_SYMLINK)
      throw new ImageFormatError(`ext4: symlink inode ${ino} is ${inode.size} bytes long`);
    if (this.isFastSymlink(inode)) return inode.block.toString("utf8", 0, inode.size);
    return (await this.readData(inode, 0, inode.size)).toString("utf8");
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    return this.readData(await this.fileInode(ino, offset, length), offset, length);
  }

  async readInto(ino: number, offset: number, length: number, target: Buffer, at: number): Promise<number> {
    const inode = await this.fileInode(ino, offset, length);
    const end = Math.min(inode.size, offset + length);
    if (offset >= end) return 0;
    if (inode.flags & INODE_FLAG.inlineData) {
      // Inline files are tiny: readData's zero-filling of a size past the inline bytes, then a copy.
      (await this.readData(inode, offset, length)).copy(target, at);
      return end - offset;
    }
    await this.copyRuns(inode, offset, end, target, at);
    return end - offset;
  }

  /** The regular file's inode, for a read of [offset, offset + length). */
  private async fileInode(ino: number, offset: number, length: number): Promise<Inode> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new UsageError(`invalid read of ${length} bytes at offset ${offset}`);
    }
    const inode = await this.inode(ino);
    if (inode.type !== "file") throw new UsageError(`ext4: inode ${ino} is not a regular file`);
    if (inode.flags & INODE_FLAG.encrypt) {
      throw new ImageFormatError(
        `ext4: file inode ${ino} is encrypted (fscrypt) and its key is not available`,
      );
    }
    const end = Math.min(inode.size, offset + length);
    if (end - offset > MAX_READ) throw new UsageError(`refusing a ${end - offset}-byte read; read in chunks`);
    return inode;
  }

  async cleanState(): Promise<CleanState> {
    return cleanStateOf(this.sb);
  }

  async listXattrs(ino: number): Promise<Xattr[]> {
    const inode = await this.inode(ino);
    const csum = (this.sb.roCompat & RO_COMPAT.metadata_csum) !== 0;
    const out: Xattr[] = [];
    if (inode.xattrArea.length > 0) {
      // The inode's checksum covers its attribute area; the rest of the reader does not need it.
      if (csum && !inodeChecksumOk(inode.raw, ino, this.sb.csumSeed)) {
        throw new ImageFormatError(`ext4: inode ${ino}: checksum mismatch`);
      }
      const what = `inode ${ino} attributes`;
      await this.collectXattrs(inode.xattrArea, parseXattrEntries(inode.xattrArea, 0, 0, what), what, out);
    }
    if (inode.fileAcl !== 0) {
      const what = `inode ${ino} attribute block ${inode.fileAcl}`;
      const block = await this.metaBlock(inode.fileAcl);
      if (block.readUInt32LE(0) !== XATTR_MAGIC) throw new ImageFormatError(`ext4: ${what}: bad magic`);
      if (block.readUInt32LE(8) !== 1) throw new ImageFormatError(`ext4: ${what}: spans more than one block`);
      if (csum && !xattrBlockChecksumOk(block, inode.fileAcl, this.sb.csumSeed)) {
        throw new ImageFormatError(`ext4: ${what}: checksum mismatch`);
      }
      const entries = parseXattrEntries(block, XATTR_BLOCK_HEADER, 0, what);
      await this.collectXattrs(block, entries, what, out);
    }
    return out;
  }

  /** Appends the listed attributes of one entry table to `out`, reading values kept in EA inodes. */
  private async collectXattrs(buf: Buffer, entries: readonly XattrEntry[], what: string, out: Xattr[]) {
    for (const e of entries) {
      const name = xattrName(e);
      if (name === undefined) continue;
      if (e.valueSize > XATTR_SIZE_MAX) {
        throw new ImageFormatError(`ext4: ${what}: ${name} claims a ${e.valueSize}-byte value`);
      }
      const stored = e.valueInum !== 0 ? await this.eaInodeValue(e, what) : entryValue(buf, e);
      const value = isAclIndex(e.index) ? aclToXattr(stored, `${what}: ${name}`) : Buffer.from(stored);
      out.push({ name, value });
    }
  }

  /** A value stored in its own inode (ea_inode): that inode's data, exactly value_size bytes long. */
  private async eaInodeValue(e: XattrEntry, what: string): Promise<Buffer> {
    if (!(this.sb.incompat & INCOMPAT.ea_inode)) {
      throw new ImageFormatError(
        `ext4: ${what}: a value points to inode ${e.valueInum} without the ea_inode feature`,
      );
    }
    const holder = await this.inode(e.valueInum);
    if (holder.type !== "file" || !(holder.flags & INODE_FLAG.eaInode) || holder.size !== e.valueSize) {
      throw new ImageFormatError(
        `ext4: ${what}: inode ${e.valueInum} is not an attribute value inode of ${e.valueSize} bytes`,
      );
    }
    return this.readData(holder, 0, e.valueSize);
  }

  /** Bytes [offset, offset + length) of an inode's data, clipped to its size; holes read as zeros. */
  private async readData(inode: Inode, offset: number, length: number): Promise<Buffer> {
    const end = Math.min(inode.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    if (inode.flags & INODE_FLAG.inlineData) {
      // A size beyond the inline bytes (a sparse file never converted to extents) reads as zeros.
      const out = Buffer.alloc(end - offset);
      const data = this.inlineData(inode);
      if (offset < data.length) data.copy(out, 0, offset, Math.min(end, data.length));
      return out;
    }
    const out = Buffer.alloc(end - offset);
    await this.copyRuns(inode, offset, end, out, 0);
    return out;
  }

  /** File bytes [offset, end) into `out` at `at`; holes (and unwritten extents) as zeros. */
  private async copyRuns(inode: Inode, offset: number, end: number, out: Buffer, at: number): Promise<void> {
    const bs = this.blockSize;
    let pos = offset;
    while (pos < end) {
      const lblk = Math.floor(pos / bs);
      const run = await this.mapRun(inode, lblk);
      const runEnd = Math.min(end, (lblk + run.count) * bs);
      if (run.zero) out.fill(0, at + pos - offset, at + runEnd - offset);
      else
        await readInto(
          this.source,
          run.physical * bs + (pos - lblk * bs),
          runEnd - pos,
          out,
          at + pos - offset,
        );
      pos = runEnd;
    }
  }

  /** Calls `fn` with the bytes of each run of allocated directory blocks, in logical order. */
  private async forEachDirBlockRun(dir: Inode, fn: (blocks: Buffer) => void): Promise<void> {
    const bs = this.blockSize;
    const nblocks = Math.ceil(dir.size / bs);
    const batch = Math.max(1, Math.floor(DIR_BATCH_BYTES / bs));
    let lblk = 0;
    while (lblk < nblocks) {
      const run = await this.mapRun(dir, lblk);
      const count = Math.min(run.count, nblocks - lblk, batch);
      // Holes (and unwritten extents) in a directory hold no entries; the kernel skips them too.
      if (!run.zero) fn(await this.source.read(run.physical * bs, count * bs));
      lblk += count;
    }
  }

  private mapRun(inode: Inode, lblk: number): Promise<BlockRun> {
    if (inode.flags & INODE_FLAG.extents) return this.extents.map(inode.ino, inode.block, lblk);
    return mapIndirect(this.ctx, inode.ino, inode.block, lblk);
  }

  /** Inline data: the 60 bytes of i_block followed by the system.data attribute's value, up to the size. */
  private inlineData(inode: Inode): Buffer {
    const more = findXattr(inode.xattrArea, XATTR_INDEX_SYSTEM, "data", `inode ${inode.ino}`);
    const data = more ? Buffer.concat([inode.block, more]) : inode.block;
    return data.subarray(0, Math.min(inode.size, data.length));
  }

  /** A symlink whose target sits in i_block: no data blocks besides an extended attribute block. */
  private isFastSymlink(inode: Inode): boolean {
    if (inode.flags & INODE_FLAG.inlineData || inode.size >= I_BLOCK_SIZE) return false;
    const clusterSectors = (this.blockSize << this.sb.clusterBits) / 512;
    return inode.sectors - (inode.fileAcl !== 0 ? clusterSectors : 0) === 0;
  }

  /** The hash version an htree directory's dx root records (byte 28 of its first block). */
  private async dxHashVersion(dir: Inode): Promise<number> {
    const run = await this.mapRun(dir, 0);
    if (run.zero) throw new ImageFormatError(`ext4: directory inode ${dir.ino} has no first block`);
    return (await this.metaBlock(run.physical))[0x1c]!;
  }

  private async inode(ino: number): Promise<Inode> {
    const cached = this.inodes.get(ino);
    if (cached) return cached;
    if (!Number.isSafeInteger(ino) || ino < 1 || ino > this.sb.inodesCount) {
      throw new ImageFormatError(`ext4: inode number ${ino} is out of range (1..${this.sb.inodesCount})`);
    }
    const { inodesPerGroup, inodeSize, blockSize } = this.sb;
    const groupNo = Math.floor((ino - 1) / inodesPerGroup);
    const group = await this.group(groupNo);
    if (group.flags & BG_INODE_UNINIT && this.sb.roCompat & (RO_COMPAT.uninit_bg | RO_COMPAT.metadata_csum)) {
      throw new ImageFormatError(
        `ext4: inode ${ino} lies in uninitialised group ${groupNo} (an unused inode)`,
      );
    }
    const byteInTable = ((ino - 1) % inodesPerGroup) * inodeSize;
    const block = await this.metaBlock(group.inodeTable + Math.floor(byteInTable / blockSize));
    const at = byteInTable % blockSize;
    const inode = parseInode(ino, block.subarray(at, at + inodeSize), {
      largeDir: (this.sb.incompat & INCOMPAT.large_dir) !== 0,
      blockSize,
    });
    this.inodes.set(ino, inode);
    return inode;
  }

  private async group(g: number): Promise<Group> {
    const { descSize, blockSize, inodesPerGroup, inodeSize } = this.sb;
    const perBlock = blockSize / descSize;
    const block = await this.metaBlock(this.descriptorBlock(Math.floor(g / perBlock)));
    const off = (g % perBlock) * descSize;
    const inodeTable =
      block.readUInt32LE(off + 0x8) + (descSize >= 64 ? block.readUInt32LE(off + 0x28) * 2 ** 32 : 0);
    checkBlocks(
      this.ctx,
      inodeTable,
      Math.ceil((inodesPerGroup * inodeSize) / blockSize),
      `group ${g}: inode table`,
    );
    return { inodeTable, flags: block.readUInt16LE(off + 0x12) };
  }

  /** Where descriptor block `n` lives: right after the superblock, or with meta_bg at its meta group's start. */
  private descriptorBlock(n: number): number {
    const sb = this.sb;
    const sbBlock = sb.blockSize === 1024 ? 1 : 0;
    if (!(sb.incompat & INCOMPAT.meta_bg) || n < sb.firstMetaBg) return sbBlock + 1 + n;
    const firstGroup = n * (sb.blockSize / sb.descSize);
    let block = sb.firstDataBlock + firstGroup * sb.blocksPerGroup;
    if (this.groupHasSuper(firstGroup)) block++;
    // 1 KiB blocks with first_data_block 0 (bigalloc): group 0's descriptors are at block 2.
    if (sb.blockSize === 1024 && n === 0 && sb.firstDataBlock === 0) block++;
    return block;
  }

  private groupHasSuper(g: number): boolean {
    const sb = this.sb;
    if (g === 0) return true;
    if (sb.compat & COMPAT.sparse_super2) return g === sb.backupBgs[0] || g === sb.backupBgs[1];
    if (g <= 1 || !(sb.roCompat & RO_COMPAT.sparse_super)) return true;
    if (g % 2 === 0) return false;
    return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
  }

  private async metaBlock(block: number): Promise<Buffer> {
    const cached = this.blocks.get(block);
    if (cached) return cached;
    checkBlocks(this.ctx, block, 1, "metadata");
    const buf = await this.source.read(block * this.blockSize, this.blockSize);
    this.blocks.set(block, buf);
    return buf;
  }
}

function isPowerOf(n: number, base: number): boolean {
  while (n % base === 0) n /= base;
  return n === 1;
}

/** Opens an ext2, ext3 or ext4 filesystem read-only. */
export function openExt4(source: ByteSource): Promise<Ext4Filesystem> {
  return Ext4Filesystem.open(source);
}
