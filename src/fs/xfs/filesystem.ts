/** The read-only XFS filesystem: the Filesystem interface over a ByteSource. */
import { type ByteSource, MAX_READ, readInto } from "../../disk/source.js";
import { ImageFormatError, UsageError } from "../../errors.js";
import type { CleanState, DirEntry, Filesystem, InodeStat, Xattr } from "../types.js";
import { readXattrs } from "./attr.js";
import { BlockCache } from "./cache.js";
import type { XfsContext } from "./context.js";
import { readDirectory } from "./dir.js";
import { type Extent, extentsInRange } from "./extents.js";
import { XfsGeometry } from "./geometry.js";
import { parseInode, type XfsInode } from "./inode.js";
import { logCleanState } from "./log.js";
import { parseSuperblock, SB_MIN_BYTES, type XfsSuperblock } from "./superblock.js";
import { readSymlink } from "./symlink.js";

const INODE_CACHE_SIZE = 4096;
/** Largest single read of file data handed to the source. */
const DATA_CHUNK = 16 * 1024 * 1024;

export class XfsFilesystem implements Filesystem {
  readonly type = "xfs" as const;
  readonly label: string;
  readonly uuid: string;
  readonly blockSize: number;
  readonly rootIno: number;
  private readonly ctx: XfsContext;
  private readonly inodes = new Map<number, XfsInode>();

  constructor(
    private readonly source: ByteSource,
    readonly superblock: XfsSuperblock,
  ) {
    this.label = superblock.label;
    this.uuid = superblock.uuid;
    this.blockSize = superblock.blockSize;
    this.rootIno = superblock.rootIno;
    this.ctx = { sb: superblock, geo: new XfsGeometry(superblock), cache: new BlockCache(source) };
  }

  /** The parsed on-disk inode `ino` (cached). */
  async inode(ino: number): Promise<XfsInode> {
    const hit = this.inodes.get(ino);
    if (hit) {
      this.inodes.delete(ino);
      this.inodes.set(ino, hit);
      return hit;
    }
    const { sb } = this.ctx;
    const loc = this.ctx.geo.inodeLocation(ino);
    const block = await this.ctx.cache.read(loc.blockOffset, sb.blockSize);
    const raw = Buffer.from(block.subarray(loc.offsetInBlock, loc.offsetInBlock + sb.inodeSize));
    const inode = parseInode(raw, ino, sb);
    this.inodes.set(ino, inode);
    if (this.inodes.size > INODE_CACHE_SIZE) this.inodes.delete(this.inodes.keys().next().value!);
    return inode;
  }

  async stat(ino: number): Promise<InodeStat> {
    return (await this.inode(ino)).stat;
  }

  async readDir(ino: number): Promise<DirEntry[]> {
    return readDirectory(this.ctx, await this.inode(ino));
  }

  async readLink(ino: number): Promise<string> {
    return readSymlink(this.ctx, await this.inode(ino));
  }

  cleanState(): Promise<CleanState> {
    return logCleanState(this.ctx);
  }

  async listXattrs(ino: number): Promise<Xattr[]> {
    return readXattrs(this.ctx, await this.inode(ino));
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const { inode, end } = await this.fileRange(ino, offset, length);
    if (end <= offset) return Buffer.alloc(0);
    const bs = this.blockSize;
    const runs = mergeRuns(
      await extentsInRange(this.ctx, inode, Math.floor(offset / bs), Math.ceil(end / bs)),
    );
    const only = runs.length === 1 ? runs[0]! : undefined;
    if (
      only &&
      only.fileBlock * bs <= offset &&
      (only.fileBlock + only.count) * bs >= end &&
      end - offset <= DATA_CHUNK
    ) {
      // One contiguous run covers the whole request: hand back the source's buffer as is.
      return this.source.read(only.block * bs + (offset - only.fileBlock * bs), end - offset);
    }
    const out = Buffer.alloc(end - offset);
    await this.copyRuns(runs, offset, end, out, 0);
    return out;
  }

  async readInto(ino: number, offset: number, length: number, target: Buffer, at: number): Promise<number> {
    const { inode, end } = await this.fileRange(ino, offset, length);
    if (end <= offset) return 0;
    const bs = this.blockSize;
    const runs = mergeRuns(
      await extentsInRange(this.ctx, inode, Math.floor(offset / bs), Math.ceil(end / bs)),
    );
    await this.copyRuns(runs, offset, end, target, at, true);
    return end - offset;
  }

  /** The regular file's inode and where a read of [offset, offset + length) ends (clipped to its size). */
  private async fileRange(ino: number, offset: number, length: number) {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new UsageError(`invalid read of ${length} bytes at offset ${offset}`);
    }
    const inode = await this.inode(ino);
    if (inode.stat.type !== "file")
      throw new ImageFormatError(`xfs: inode ${ino} is a ${inode.stat.type}, not a regular file`);
    if (inode.realtime)
      throw new ImageFormatError(
        `xfs: inode ${ino} keeps its data on a realtime device, which is not supported`,
      );
    const end = Math.min(inode.stat.size, offset + length);
    if (end - offset > MAX_READ)
      throw new UsageError(`refusing a ${end - offset}-byte read (at most ${MAX_READ} at once)`);
    return { inode, end };
  }

  /**
   * Copies [offset, end) of the file from `runs` (in file order) to `out` at `at`. With `zeroHoles`, the
   * bytes no run covers are zeroed (a hole reads as zeros and `out` may hold anything); only those: a
   * fill of the whole range first would touch every fresh page of `out` twice.
   */
  private async copyRuns(
    runs: readonly Extent[],
    offset: number,
    end: number,
    out: Buffer,
    at: number,
    zeroHoles = false,
  ) {
    const bs = this.blockSize;
    let done = offset;
    for (const run of runs) {
      const from = Math.max(offset, run.fileBlock * bs);
      const to = Math.min(end, (run.fileBlock + run.count) * bs);
      if (to <= from) continue;
      if (zeroHoles && from > done) out.fill(0, at + done - offset, at + from - offset);
      const disk = run.block * bs + (from - run.fileBlock * bs);
      for (let pos = from; pos < to; pos += DATA_CHUNK) {
        const n = Math.min(DATA_CHUNK, to - pos);
        await readInto(this.source, disk + (pos - from), n, out, at + pos - offset);
      }
      done = Math.max(done, to);
    }
    if (zeroHoles && end > done) out.fill(0, at + done - offset, at + end - offset);
  }
}

/** Written extents with adjacent ones that are contiguous on disk merged; unwritten ones dropped. */
function mergeRuns(extents: readonly Extent[]): Extent[] {
  const runs: Extent[] = [];
  for (const e of extents) {
    if (e.unwritten) continue;
    const last = runs.at(-1);
    if (last && last.fileBlock + last.count === e.fileBlock && last.block + last.count === e.block) {
      runs[runs.length - 1] = { ...last, count: last.count + e.count };
    } else runs.push(e);
  }
  return runs;
}

/** Opens the XFS filesystem at the start of `source`, validating its superblock and root inode. */
export async function openXfs(source: ByteSource): Promise<XfsFilesystem> {
  if (source.size < SB_MIN_BYTES) {
    throw new ImageFormatError(`xfs: ${source.size} bytes is too small to hold a superblock`);
  }
  let head = await source.read(0, SB_MIN_BYTES);
  const sectSize = head.readUInt16BE(102);
  if (sectSize > SB_MIN_BYTES && sectSize <= 32768 && sectSize <= source.size)
    head = await source.read(0, sectSize);
  const sb = parseSuperblock(head);
  const bytes = sb.dBlocks * sb.blockSize;
  if (bytes > source.size) {
    throw new ImageFormatError(
      `xfs: the filesystem needs ${bytes} bytes but its device has only ${source.size} (truncated image?)`,
    );
  }
  const fs = new XfsFilesystem(source, sb);
  const root = await fs.stat(sb.rootIno);
  if (root.type !== "dir")
    throw new ImageFormatError(`xfs: root inode ${sb.rootIno} is a ${root.type}, not a directory`);
  return fs;
}
