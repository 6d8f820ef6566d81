/**
 * The one random-access read interface. Everything from the image file up to a file inside a
 * filesystem is a ByteSource: qcow2 wraps a file, a partition is a slice of a disk, a filesystem
 * reads its blocks through a slice.
 */
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
    checkRange(this, offset, length, this.path);
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0)
        throw new ImageFormatError(`${this.path}: unexpected end of file at ${offset + done}`);
      done += bytesRead;
    }
    this.bytesRead += length;
    return buf;
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
}
