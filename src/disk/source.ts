/**
 * The one random-access read interface. Everything from the image file up to a file inside a
 * filesystem is a ByteSource: qcow2 wraps a file, a partition is a slice of a disk, a filesystem
 * reads its blocks through a slice.
 */
import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { ImageFormatError } from "../errors.js";
import { openInput } from "../files.js";

export interface ByteSource {
  /** Size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes starting at `offset`. A range outside [0, size) is an ImageFormatError
   * (corrupt metadata pointing past the end), never a short read.
   */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * The same bytes written into `target` at `at` instead of a new buffer, so a caller reading a large
   * file piece by piece can reuse its memory. Optional: readInto() falls back to read() and a copy.
   */
  readInto?(offset: number, length: number, target: Buffer, at: number): Promise<void>;
}

/** `length` bytes at `offset` of `source` into `target` at `at`, through the source's readInto when it has one. */
export async function readInto(
  source: ByteSource,
  offset: number,
  length: number,
  target: Buffer,
  at: number,
): Promise<void> {
  if (at < 0 || at + length > target.length) {
    throw new RangeError(`readInto: ${length} bytes at ${at} do not fit a ${target.length}-byte buffer`);
  }
  if (source.readInto) return source.readInto(offset, length, target, at);
  (await source.read(offset, length)).copy(target, at);
}

/** Largest single read we allow; corrupt metadata must not make us allocate gigabytes. */
export const MAX_READ = 256 * 1024 * 1024;

export function checkRange(source: { size: number }, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ImageFormatError(`${what}: invalid read of ${length} bytes at offset ${offset}`);
  }
  if (length > MAX_READ)
    throw new ImageFormatError(`${what}: refusing a ${length}-byte read (corrupt metadata?)`);
  if (offset + length > source.size) {
    throw new ImageFormatError(
      `${what}: read of ${length} bytes at ${offset} goes past the end (${source.size} bytes)`,
    );
  }
}

/** A file on the host, read with positional reads; counts the bytes it read. */
export class FileSource implements ByteSource {
  bytesRead = 0;
  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** A missing file, a FIFO, a socket or a character device is refused (InputFileError) before any read. */
  static async open(path: string): Promise<FileSource> {
    const { handle, stat } = await openInput(path, { blockDevices: true });
    return new FileSource(handle, stat.size, path);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    // Filled whole by readInto or not returned at all: no zero-fill needed.
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(offset, length, buf, 0);
    return buf;
  }

  // Positional reads are synchronous: an image is read in many small pieces, mostly from the page
  // cache, and a trip through libuv's thread pool per piece cost more than the read itself.
  async readInto(offset: number, length: number, target: Buffer, at: number): Promise<void> {
    checkRange(this, offset, length, this.path);
    let done = 0;
    while (done < length) {
      const bytesRead = readSync(this.handle.fd, target, at + done, length - done, offset + done);
      if (bytesRead === 0)
        throw new ImageFormatError(`${this.path}: unexpected end of file at ${offset + done}`);
      done += bytesRead;
    }
    this.bytesRead += length;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** A window [offset, offset + size) of another source: a partition of a disk. */
export class SliceSource implements ByteSource {
  constructor(
    private readonly parent: ByteSource,
    readonly offset: number,
    readonly size: number,
    private readonly what = "partition",
  ) {
    if (offset < 0 || size < 0 || offset + size > parent.size) {
      throw new ImageFormatError(
        `${what} [${offset}, ${offset + size}) lies outside the disk (${parent.size} bytes)`,
      );
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this, offset, length, this.what);
    return this.parent.read(this.offset + offset, length);
  }

  async readInto(offset: number, length: number, target: Buffer, at: number): Promise<void> {
    checkRange(this, offset, length, this.what);
    return readInto(this.parent, this.offset + offset, length, target, at);
  }
}

/** An in-memory source, for tests and small embedded blobs. */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(private readonly buf: Buffer) {
    this.size = buf.length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this, offset, length, "buffer");
    return Buffer.from(this.buf.subarray(offset, offset + length));
  }

  async readInto(offset: number, length: number, target: Buffer, at: number): Promise<void> {
    checkRange(this, offset, length, "buffer");
    this.buf.copy(target, at, offset, offset + length);
  }
}
