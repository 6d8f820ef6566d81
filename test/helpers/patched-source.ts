/** A fuzz case's image without copying it: the base bytes with one patched range, optionally cut short. */
import { type ByteSource, checkRange } from "../../src/disk/source.js";

/** The base image with one patched range and an optional shorter size. */
export class PatchedSource implements ByteSource {
  constructor(
    private readonly base: Buffer,
    private readonly patchAt: number,
    private readonly patch: Buffer,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this, offset, length, "fuzzed image");
    const out = Buffer.from(this.base.subarray(offset, offset + length));
    const from = Math.max(offset, this.patchAt);
    const to = Math.min(offset + length, this.patchAt + this.patch.length);
    if (from < to) this.patch.copy(out, from - offset, from - this.patchAt, to - this.patchAt);
    return out;
  }
}
