/**
 * A local file being published: positional reads that count the bytes read, and a check that it did
 * not change (size, mtime, bytes past the end) while we read it.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { PublishError } from "../errors.js";
import { openInput } from "../files.js";

/** Chunk size for sequential passes (hashing, local copies). */
export const CHUNK = 8 * 1024 * 1024;

export class LocalFile {
  /** Bytes read from disk so far, all passes included. */
  bytesRead = 0;
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly name: string,
    readonly size: number,
    readonly mtimeMs: number,
  ) {}

  /** A missing file, a FIFO, a socket or a device is refused (InputFileError, exit 2) before any read. */
  static async open(path: string): Promise<LocalFile> {
    const { handle, stat } = await openInput(path);
    return new LocalFile(handle, path, basename(path), stat.size, stat.mtimeMs);
  }

  /** Fills `buffer[0, length)` from `offset`; a short read means the file shrank under us. */
  async readAt(buffer: Buffer, offset: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new PublishError(
          `${this.name} changed while it was being published: it ended at ${offset + done} bytes, expected ${this.size}`,
        );
      }
      done += bytesRead;
      this.bytesRead += bytesRead;
    }
  }

  /** Throws when the file grew, shrank or was rewritten since it was opened. */
  async assertUnchanged(): Promise<void> {
    const probe = Buffer.alloc(1);
    const { bytesRead } = await this.handle.read(probe, 0, 1, this.size);
    const st = await this.handle.stat();
    if (bytesRead > 0 || st.size !== this.size) {
      throw new PublishError(
        `${this.name} changed size while it was being published (${this.size} -> ${st.size} bytes)`,
      );
    }
    if (st.mtimeMs !== this.mtimeMs) {
      throw new PublishError(`${this.name} was modified while it was being published`);
    }
  }

  /** One sequential pass computing the SHA-256 (hex). */
  async sha256(onBytes?: (n: number) => void): Promise<string> {
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, this.size)));
    for (let offset = 0; offset < this.size; offset += buf.length) {
      const n = Math.min(buf.length, this.size - offset);
      await this.readAt(buf, offset, n);
      hash.update(buf.subarray(0, n));
      onBytes?.(n);
    }
    await this.assertUnchanged();
    return hash.digest("hex");
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
