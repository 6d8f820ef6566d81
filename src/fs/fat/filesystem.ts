/**
 * Read-only FAT12/16/32 (with VFAT long names) through the Filesystem interface, for the EFI system
 * partition. FAT has no inodes: a file's number is the byte offset of its short directory entry
 * divided by 32, and the root directory is number 1. Ownership and modes are what Linux shows by
 * default (root, 0755; read-only files 0555); times are taken as UTC. Names match without regard to
 * case, as Linux's vfat does.
 */
import { LruCache } from "../../disk/lru.js";
import type { ByteSource } from "../../disk/source.js";
import { MAX_READ } from "../../disk/source.js";
import { ImageFormatError, UsageError } from "../../errors.js";
import type { CleanState, DirEntry, Filesystem, InodeStat, Xattr } from "../types.js";
import { type FatGeometry, fatIdentity, parseBootSector } from "./boot.js";
import { ATTR, ENTRY, parseEntries, type RawEntry } from "./dir.js";
import { AllocationTable, type ClusterRun } from "./table.js";

const ROOT_INO = 1;
/** A directory holds at most 65536 entries (2 MiB). */
const MAX_DIR_BYTES = 65536 * ENTRY;

interface FatNode {
  readonly ino: number;
  readonly dir: boolean;
  readonly attr: number;
  readonly firstCluster: number;
  readonly size: number;
  readonly mtime: number;
  readonly atime: number;
}

/** Seconds since the epoch of a FAT date and time (2-second resolution), taken as UTC. */
function fatTime(date: number, time = 0): number {
  if (date === 0) return 0;
  const ms = Date.UTC(
    1980 + (date >> 9),
    ((date >> 5) & 0xf) - 1,
    date & 0x1f,
    time >> 11,
    (time >> 5) & 0x3f,
    (time & 0x1f) * 2,
  );
  return Math.floor(ms / 1000);
}

export class FatFilesystem implements Filesystem {
  readonly type = "vfat" as const;
  readonly rootIno = ROOT_INO;
  readonly blockSize: number;
  readonly caseInsensitive = true;
  private readonly fat: AllocationTable;
  /** Cluster runs of recently read files and directories, bounded by their count of runs. */
  private readonly chains = new LruCache<number, ClusterRun[]>(65536);

  constructor(
    private readonly source: ByteSource,
    readonly geometry: FatGeometry,
    readonly label: string,
    readonly uuid: string,
  ) {
    this.blockSize = geometry.clusterSize;
    this.fat = new AllocationTable(source, geometry);
  }

  private clusterOffset(n: number): number {
    return this.geometry.dataOffset + (n - 2) * this.geometry.clusterSize;
  }

  /** The directory entry behind inode number `ino` (the root has none). */
  private async node(ino: number): Promise<FatNode> {
    const g = this.geometry;
    if (ino === ROOT_INO) {
      return { ino, dir: true, attr: ATTR.DIR, firstCluster: g.rootCluster, size: 0, mtime: 0, atime: 0 };
    }
    const at = ino * ENTRY;
    const inRoot = g.rootRegion && at >= g.rootRegion.offset && at < g.rootRegion.offset + g.rootRegion.bytes;
    if (!Number.isSafeInteger(ino) || ino < 1 || (!inRoot && (at < g.dataOffset || at + ENTRY > g.bytes))) {
      throw new ImageFormatError(`fat: inode number ${ino} does not name a directory entry`);
    }
    const e = await this.source.read(at, ENTRY);
    const attr = e[11]!;
    if (e[0] === 0 || e[0] === 0xe5 || (attr & 0x3f) === ATTR.LFN || attr & ATTR.VOLUME) {
      throw new ImageFormatError(`fat: inode number ${ino} does not name a file or directory`);
    }
    const high = g.type === 32 ? e.readUInt16LE(20) : 0;
    return {
      ino,
      dir: (attr & ATTR.DIR) !== 0,
      attr,
      firstCluster: high * 0x10000 + e.readUInt16LE(26),
      size: e.readUInt32LE(28),
      mtime: fatTime(e.readUInt16LE(24), e.readUInt16LE(22)),
      atime: fatTime(e.readUInt16LE(18)),
    };
  }

  /** The clusters of a node's data: a file's first ceil(size / cluster) ones, or a directory's chain. */
  private async clusters(node: FatNode): Promise<ClusterRun[]> {
    const cached = this.chains.get(node.ino);
    if (cached) return cached;
    const cs = this.geometry.clusterSize;
    const what = `${node.dir ? "directory" : "file"} ${node.ino}`;
    let runs: ClusterRun[];
    if (node.firstCluster === 0) {
      if (node.dir && node.ino !== ROOT_INO) throw new ImageFormatError(`fat: ${what} has no clusters`);
      runs = [];
    } else {
      const limit = node.dir ? Math.ceil(MAX_DIR_BYTES / cs) : Math.ceil(node.size / cs);
      runs = await this.fat.chain(node.firstCluster, limit, what);
      const have = runs.reduce((n, r) => n + r.count, 0);
      if (!node.dir && have * cs < node.size) {
        throw new ImageFormatError(`fat: ${what} is ${node.size} bytes but its chain holds ${have} clusters`);
      }
    }
    this.chains.set(node.ino, runs, runs.length + 1);
    return runs;
  }

  async stat(ino: number): Promise<InodeStat> {
    const node = await this.node(ino);
    let size = node.size;
    if (node.dir) {
      const root = this.geometry.rootRegion;
      size =
        ino === ROOT_INO && root
          ? root.bytes
          : (await this.clusters(node)).reduce((n, r) => n + r.count, 0) * this.geometry.clusterSize;
    }
    const writable = node.dir || !(node.attr & ATTR.READ_ONLY);
    return {
      ino,
      type: node.dir ? "dir" : "file",
      mode: writable ? 0o755 : 0o555,
      size,
      nlink: node.dir ? 2 : 1,
      uid: 0,
      gid: 0,
      mtime: node.mtime,
      atime: node.atime,
    };
  }

  async readDir(ino: number): Promise<DirEntry[]> {
    const node = await this.node(ino);
    if (!node.dir) throw new UsageError(`fat: inode ${ino} is not a directory`);
    const what = ino === ROOT_INO ? "the root directory" : `directory ${ino}`;
    const raw: RawEntry[] = [];
    const state = {};
    const root = this.geometry.rootRegion;
    if (ino === ROOT_INO && root) {
      parseEntries(await this.source.read(root.offset, root.bytes), root.offset, raw, state, what);
    } else {
      const cs = this.geometry.clusterSize;
      for (const run of await this.clusters(node)) {
        const offset = this.clusterOffset(run.first);
        if (!parseEntries(await this.source.read(offset, run.count * cs), offset, raw, state, what)) break;
      }
    }
    return raw.map((e) => ({ name: e.name, ino: e.offset / ENTRY }));
  }

  async readLink(ino: number): Promise<string> {
    throw new UsageError(`fat: inode ${ino} is not a symbolic link (FAT has none)`);
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new UsageError(`invalid read of ${length} bytes at offset ${offset}`);
    }
    const node = await this.node(ino);
    if (node.dir) throw new UsageError(`fat: inode ${ino} is a directory, not a regular file`);
    const end = Math.min(node.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    if (end - offset > MAX_READ) throw new UsageError(`refusing a ${end - offset}-byte read; read in chunks`);
    const cs = this.geometry.clusterSize;
    const out = Buffer.alloc(end - offset);
    let fileAt = 0; // file offset where the current run starts
    for (const run of await this.clusters(node)) {
      const runEnd = fileAt + run.count * cs;
      const from = Math.max(offset, fileAt);
      const to = Math.min(end, runEnd);
      if (from < to) {
        const data = await this.source.read(this.clusterOffset(run.first) + (from - fileAt), to - from);
        data.copy(out, from - offset);
      }
      if (runEnd >= end) break;
      fileAt = runEnd;
    }
    return out;
  }

  async listXattrs(): Promise<Xattr[]> {
    return [];
  }

  /**
   * Dirty when Linux's mark in the boot sector is set (it sets it while mounted), or when FAT16/32's
   * second FAT entry lacks the clean-shutdown bit or reports hard errors (as Windows records them).
   */
  async cleanState(): Promise<CleanState> {
    const problems: string[] = [];
    if (this.geometry.state & 0x01) problems.push("the volume is marked dirty (not properly unmounted)");
    if (this.geometry.type !== 12) {
      const fat1 = await this.fat.entry(1);
      const [cleanBit, noErrorBit] = this.geometry.type === 16 ? [0x8000, 0x4000] : [0x08000000, 0x04000000];
      if (!(fat1 & cleanBit)) problems.push("the FAT's clean-shutdown bit is clear");
      if (!(fat1 & noErrorBit)) problems.push("the FAT records disk errors");
    }
    if (problems.length > 0) return { clean: false, detail: `not clean: ${problems.join("; ")}` };
    return { clean: true, detail: `clean (FAT${this.geometry.type}, not marked dirty)` };
  }
}

/** Opens the FAT12/16/32 filesystem at the start of `source`. */
export async function openFat(source: ByteSource): Promise<FatFilesystem> {
  if (source.size < 512)
    throw new ImageFormatError(`fat: ${source.size} bytes is too small to hold a boot sector`);
  const head = await source.read(0, 512);
  const geometry = parseBootSector(head, source.size);
  const id = fatIdentity(head);
  return new FatFilesystem(source, geometry, id.label ?? "", id.uuid ?? "");
}
