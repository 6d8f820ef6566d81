/**
 * The file allocation table: one entry per cluster naming the next cluster of its chain. Entries are
 * read through a page cache; chains are followed with a length bound, so a loop cannot run forever.
 */
import { LruCache } from "../../disk/lru.js";
import type { ByteSource } from "../../disk/source.js";
import { ImageFormatError } from "../../errors.js";
import type { FatGeometry } from "./boot.js";

const PAGE = 64 * 1024;

/** Consecutive clusters of a chain: [first, first + count). */
export interface ClusterRun {
  readonly first: number;
  readonly count: number;
}

export class AllocationTable {
  private readonly pages = new LruCache<number, Buffer>(4 * 1024 * 1024);
  private readonly eoc: number;
  private readonly badCluster: number;

  constructor(
    private readonly source: ByteSource,
    private readonly geo: FatGeometry,
  ) {
    this.eoc = geo.type === 12 ? 0xff8 : geo.type === 16 ? 0xfff8 : 0x0ffffff8;
    this.badCluster = this.eoc - 1;
  }

  /** The raw entry of cluster `n` (FAT32: its low 28 bits). */
  async entry(n: number): Promise<number> {
    const { type } = this.geo;
    const at = type === 12 ? n + (n >> 1) : type === 16 ? n * 2 : n * 4;
    const bytes = type === 32 ? 4 : 2;
    const buf = await this.bytes(at, bytes);
    if (type === 32) return buf.readUInt32LE(0) & 0x0fffffff;
    const v = buf.readUInt16LE(0);
    if (type === 16) return v;
    return n & 1 ? v >> 4 : v & 0xfff;
  }

  private async bytes(at: number, length: number): Promise<Buffer> {
    const page = Math.floor(at / PAGE);
    const inPage = at - page * PAGE;
    if (inPage + length > PAGE) {
      return Buffer.concat([
        await this.bytes(at, PAGE - inPage),
        await this.bytes((page + 1) * PAGE, inPage + length - PAGE),
      ]);
    }
    let buf = this.pages.get(page);
    if (!buf) {
      const start = page * PAGE;
      buf = await this.source.read(this.geo.fatOffset + start, Math.min(PAGE, this.geo.fatBytes - start));
      this.pages.set(page, buf, buf.length);
    }
    if (inPage + length > buf.length)
      throw new ImageFormatError(`fat: FAT entry at byte ${at} lies past the FAT`);
    return buf.subarray(inPage, inPage + length);
  }

  isCluster(n: number): boolean {
    return n >= 2 && n <= this.geo.clusterCount + 1;
  }

  /**
   * The chain starting at `first`, as runs of consecutive clusters: up to `limit` clusters (fewer
   * when it ends first). `what` names the chain's owner in errors.
   */
  async chain(first: number, limit: number, what: string): Promise<ClusterRun[]> {
    const runs: ClusterRun[] = [];
    if (limit <= 0) return runs;
    if (!this.isCluster(first)) throw new ImageFormatError(`fat: ${what} starts at invalid cluster ${first}`);
    let n = first;
    let total = 0;
    const seen = new Set<number>();
    for (;;) {
      if (seen.has(n)) throw new ImageFormatError(`fat: ${what} loops back to cluster ${n}`);
      seen.add(n);
      const last = runs.at(-1);
      if (last && last.first + last.count === n)
        runs[runs.length - 1] = { first: last.first, count: last.count + 1 };
      else runs.push({ first: n, count: 1 });
      if (++total >= limit) return runs;
      const next = await this.entry(n);
      if (next >= this.eoc) return runs;
      if (next === this.badCluster)
        throw new ImageFormatError(`fat: ${what} runs into a bad cluster after ${n}`);
      if (!this.isCluster(next))
        throw new ImageFormatError(`fat: ${what} links cluster ${n} to invalid cluster ${next}`);
      n = next;
    }
  }
}
