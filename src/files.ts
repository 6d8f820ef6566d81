/**
 * Small file helpers shared by the layers: input files opened without ever blocking on them, output
 * written atomically through symlinks, streaming SHA-256.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream, type Stats } from "node:fs";
import {
  access,
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CloudImagesError, InputFileError, OutputFileError } from "./errors.js";

/** What a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a component of the path is not a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  ENXIO: "is a socket",
};

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && ERRNO_WORDS[code]) ?? code ?? (e as Error).message;
}

export interface OpenedInput {
  readonly handle: FileHandle;
  readonly stat: Stats;
}

/**
 * Opens an input file (an image, a checksum or package list, a manifest) for reading without blocking:
 * the open itself never waits for a FIFO's writer, and anything but a regular file (or, with
 * `blockDevices`, a block device) is refused before a byte is read. A missing, unreadable or wrong kind
 * of file is an InputFileError (bad input, exit 2) naming the path.
 */
export async function openInput(
  path: string,
  options: { readonly what?: string; readonly blockDevices?: boolean } = {},
): Promise<OpenedInput> {
  const what = options.what ? `${options.what} ` : "";
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputFileError(`cannot open ${what}${path}: ${why(e)}`, { cause: e });
  }
  const st = await handle.stat();
  if (!st.isFile() && !(options.blockDevices && st.isBlockDevice())) {
    await handle.close();
    const valid = options.blockDevices ? "a regular file or a block device" : "a regular file";
    throw new InputFileError(`${what}${path} is ${fileKind(st)}, not ${valid}`);
  }
  return { handle, stat: st };
}

/** A whole (small) input file: refused like openInput, and when larger than `maxBytes`. */
export async function readInputFile(
  path: string,
  options: { readonly what?: string; readonly maxBytes?: number } = {},
): Promise<Buffer> {
  const { handle, stat: st } = await openInput(path, options);
  try {
    const max = options.maxBytes ?? 64 * 1024 * 1024;
    if (st.size > max) {
      throw new InputFileError(
        `${options.what ? `${options.what} ` : ""}${path} is ${st.size} bytes (at most ${max})`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Where a write to `path` really lands. */
type OutputTarget =
  /** A regular file (existing or not): written atomically, the link (if any) left in place. */
  | { readonly kind: "file"; readonly path: string; readonly mode?: number }
  /** A FIFO or a terminal: written in place, through the original path. */
  | { readonly kind: "stream"; readonly path: string; readonly fifo: boolean }
  /** This process's own stdout or stderr (`/dev/stdout`, `/proc/self/fd/1`): written to the descriptor. */
  | { readonly kind: "own"; readonly stream: NodeJS.WriteStream };

/**
 * Follows `path` the way open(2) would: through symlinks (up to 40) to a regular file, to a path that
 * does not exist yet (a dangling link creates its target), or to a FIFO or character device (including
 * /dev/stdout, whose /proc/self/fd link names no real path). Directories, block devices and sockets are
 * refused: writing there is never what a user meant.
 */
async function outputTarget(path: string): Promise<OutputTarget> {
  const fd = await ownDescriptor(path);
  // Reopening our own stdout would start at offset 0 of a file it was redirected to, or replace it.
  if (fd === 1) return { kind: "own", stream: process.stdout };
  if (fd === 2) return { kind: "own", stream: process.stderr };
  let st: Stats | undefined;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (!st) return { kind: "file", path: await danglingTarget(path) };
  if (st.isFile()) return { kind: "file", path: await realpath(path), mode: st.mode & 0o7777 };
  if (st.isFIFO() || st.isCharacterDevice()) return { kind: "stream", path, fifo: st.isFIFO() };
  throw new OutputFileError(`cannot write ${path}: it is ${fileKind(st)}`, undefined);
}

/** outputTarget, its failures as OutputFileError. */
async function resolveOutput(path: string): Promise<OutputTarget> {
  try {
    return await outputTarget(path);
  } catch (e) {
    if (e instanceof CloudImagesError) throw e;
    throw new OutputFileError(`cannot write ${path}: ${why(e)}`, errno(e), { cause: e });
  }
}

/** The descriptor number when `path` is, through links, one of this process's /proc/self/fd entries. */
async function ownDescriptor(path: string): Promise<number | undefined> {
  let current = resolve(path);
  for (let i = 0; i < 40; i++) {
    const m = /^\/(?:proc\/(?:self|thread-self|(\d+))\/fd|dev\/fd)\/(\d+)$/.exec(current);
    if (m && (m[1] === undefined || Number(m[1]) === process.pid)) return Number(m[2]);
    let link: string;
    try {
      if (!(await lstat(current)).isSymbolicLink()) return undefined;
      link = await readlink(current);
    } catch {
      return undefined;
    }
    current = resolve(dirname(current), link);
  }
  return undefined;
}

/** The file a chain of links ending nowhere would create (or `path` itself when it is no link). */
async function danglingTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let i = 0; i < 40; i++) {
    let link: string;
    try {
      if (!(await lstat(current)).isSymbolicLink()) return current;
      link = await readlink(current);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return current;
      throw e;
    }
    current = resolve(dirname(current), link);
  }
  throw Object.assign(new Error("too many levels of symbolic links"), { code: "ELOOP" });
}

/**
 * Writes `data` to `path` so readers never see half a file: a temporary file beside the real target,
 * then a rename over it. A symlink is followed and stays a symlink (its target is replaced, keeping its
 * permissions); a FIFO or terminal (e.g. `/dev/stdout`) is written in place; a FIFO without a reader,
 * a directory, a block device or a socket is refused with a one-line error.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const target = await resolveOutput(path);
  if (target.kind === "stream") return writeInPlace(target, data);
  if (target.kind === "own") {
    const { stream } = target;
    return new Promise((done, fail) => stream.write(data, (e) => (e ? fail(e) : done())));
  }
  const final = target.path;
  const tmp = join(dirname(final), `.${basename(final)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data, { flag: "wx" });
    if (target.mode !== undefined) await chmod(tmp, target.mode);
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    const shown = final === resolve(path) ? path : `${path} (${final})`;
    throw new OutputFileError(`cannot write ${shown}: ${why(e)}`, errno(e), { cause: e });
  }
}

/**
 * Checks, before long work, that `path` can take the output written at its end: not a directory or a
 * device, and a regular file's folder exists and is writable (a FIFO or terminal is taken as is). Throws
 * the OutputFileError writeFileAtomic would throw later (exit 2).
 */
export async function checkOutputLocation(path: string): Promise<void> {
  const target = await resolveOutput(path);
  if (target.kind !== "file") return;
  const folder = dirname(target.path);
  try {
    if (!(await stat(folder)).isDirectory()) {
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    }
    await access(folder, constants.W_OK);
  } catch (e) {
    throw new OutputFileError(`cannot write ${path}: ${why(e)} (${folder})`, errno(e), { cause: e });
  }
}

async function writeInPlace(target: Extract<OutputTarget, { kind: "stream" }>, data: string | Buffer) {
  let probe: FileHandle | undefined;
  let handle: FileHandle | undefined;
  try {
    // Opening a FIFO for writing waits for a reader: check there is one without waiting, and keep
    // that end open until the real one is (closing it first would give the reader its end of file).
    if (target.fifo) probe = await open(target.path, constants.O_WRONLY | constants.O_NONBLOCK);
    handle = await open(target.path, "w");
    await probe?.close();
    probe = undefined;
    await handle.writeFile(data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENXIO" ? "a FIFO with no reader" : why(e);
    throw new OutputFileError(`cannot write ${target.path}: ${reason}`, code, { cause: e });
  } finally {
    await probe?.close();
    await handle?.close();
  }
}

/**
 * SHA-256 (hex) of a file, read once in 4 MiB chunks; `onProgress` gets the bytes hashed so far. An
 * aborted `signal` stops the read (with its reason). Anything but a regular file is refused unread.
 */
export async function sha256File(
  path: string,
  onProgress?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const { handle } = await openInput(path);
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = createReadStream("", { fd: handle, highWaterMark: 4 * 1024 * 1024, signal });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onProgress?.(bytes);
  }
  return hash.digest("hex");
}

/**
 * `mkdir -p`, one component at a time: Node 20's recursive mkdir never returns on paths where
 * mkdir(2) answers ENOENT under an existing parent (e.g. inside /proc), and reports ENOENT for a
 * read-only filesystem; this one fails with the real reason (EROFS, EACCES, ENOTDIR).
 */
export async function makeDirs(dir: string): Promise<void> {
  const parent = dirname(dir);
  try {
    await mkdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT" || parent === dir) throw e;
    await makeDirs(parent);
    try {
      await mkdir(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "EEXIST") throw again;
    }
  }
}
