/** A small least-recently-used cache of metadata blocks (inode blocks, directory and btree blocks). */
import type { ByteSource } from "../../disk/source.js";

export class BlockCache {
  private readonly blocks = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    /** Where the blocks come from; bulk reads that must not fill the cache go here directly. */
    readonly source: ByteSource,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** `length` bytes at byte `offset`; callers must not modify the returned buffer. */
  async read(offset: number, length: number): Promise<Buffer> {
    const key = `${offset}:${length}`;
    const hit = this.blocks.get(key);
    if (hit) {
      this.blocks.delete(key);
      this.blocks.set(key, hit);
      return hit;
    }
    const buf = await this.source.read(offset, length);
    if (length <= this.maxBytes / 4) {
      this.blocks.set(key, buf);
      this.bytes += length;
      while (this.bytes > this.maxBytes) {
        const oldest = this.blocks.keys().next().value!;
        this.bytes -= this.blocks.get(oldest)!.length;
        this.blocks.delete(oldest);
      }
    }
    return buf;
  }
}
