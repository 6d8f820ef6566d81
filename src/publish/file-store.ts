/**
 * `file://DIR`: objects as files under DIR with the same key layout as the bucket. Tags live in a
 * sidecar `KEY.tags.json`, size and SHA-256 in `KEY.meta.json`. Every write goes to a temp file in the
 * same directory, is fsynced and renamed, so the final name only ever holds a complete object.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  access,
  copyFile,
  type FileHandle,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { PublishError, UsageError } from "../errors.js";
import { makeDirs, sha256File } from "../files.js";
import { CHUNK } from "./local-file.js";
import type { ObjectStore, PutRequest, PutResult, StoredObject, Tags } from "./types.js";

const TAGS_SUFFIX = ".tags.json";
const META_SUFFIX = ".meta.json";
const PARTIAL = /^\.(.+)\.(\d+)\.[0-9a-f]+\.partial$/;

interface Meta {
  size: number;
  sha256: string;
}

export class FileStore implements ObjectStore {
  readonly kind = "file" as const;
  readonly url: string;

  /** `root` must be absolute (openStore resolves relative file:// URLs against the cwd). */
  constructor(readonly root: string) {
    this.url = pathToFileURL(root).href;
  }

  async check(): Promise<void> {
    try {
      await makeDirs(this.root);
    } catch (e) {
      throw new UsageError(
        `cannot create store directory ${this.root}: ${(e as NodeJS.ErrnoException).code}`,
        {
          cause: e,
        },
      );
    }
    const st = await stat(this.root);
    if (!st.isDirectory()) throw new UsageError(`store ${this.root} is not a directory`);
  }

  /**
   * Whether `check()` could make the store's folder, without making it: the folder, or the nearest
   * part of its path that exists, must be a writable directory (runs check this before the build).
   */
  async checkWritable(): Promise<void> {
    let dir = this.root;
    for (;;) {
      const st = await stat(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return undefined;
        throw new UsageError(`cannot create store directory ${this.root}: ${e.code}`, { cause: e });
      });
      if (st) {
        if (!st.isDirectory()) {
          throw new UsageError(
            dir === this.root
              ? `store ${this.root} is not a directory`
              : `cannot create store directory ${this.root}: ${dir} is not a directory`,
          );
        }
        try {
          await access(dir, constants.W_OK);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new UsageError(`cannot create store directory ${this.root}: ${code} (${dir})`, { cause: e });
        }
        return;
      }
      if (dirname(dir) === dir) return;
      dir = dirname(dir);
    }
  }

  pathOf(key: string): string {
    return join(this.root, ...key.split("/"));
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const path = this.pathOf(key);
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) return undefined;
      size = st.size;
    } catch {
      return undefined;
    }
    const meta = await readJson<Meta>(`${path}${META_SUFFIX}`);
    // A crash between the object's rename and its meta file leaves no recorded hash: treat as unknown.
    if (!meta || meta.size !== size || typeof meta.sha256 !== "string") return { size };
    return { size, sha256: meta.sha256, sha256From: "metadata" };
  }

  /** Object names ending like a sidecar would collide with another object's metadata or tags. */
  validateKey(key: string): void {
    for (const suffix of [META_SUFFIX, TAGS_SUFFIX]) {
      if (key.endsWith(suffix)) {
        throw new UsageError(
          `cannot publish ${key} to a file:// store: names ending in ${suffix} are reserved for its sidecar files`,
        );
      }
    }
  }

  /**
   * The object and its metadata are both written to temp files first, then renamed into place; when the
   * metadata cannot take its place, the object is removed again: nothing half-published stays at the key.
   */
  async put(request: PutRequest): Promise<PutResult> {
    const { key, file } = request;
    const final = this.pathOf(key);
    const dir = dirname(final);
    await makeDirs(dir);
    await removeStalePartials(dir, basename(final));
    const object = await writeTemp(final, async (out, temp) => this.fill(request, out, temp));
    const sha256 = object.result;
    let meta: Awaited<ReturnType<typeof writeTemp>>;
    try {
      meta = await writeTemp(`${final}${META_SUFFIX}`, (out) =>
        writeFully(out, jsonBytes({ size: file.size, sha256 } satisfies Meta)),
      );
    } catch (e) {
      await unlink(object.temp).catch(() => {});
      throw e;
    }
    try {
      await rename(object.temp, final);
    } catch (e) {
      await Promise.all([unlink(object.temp), unlink(meta.temp)].map((p) => p.catch(() => {})));
      throw e;
    }
    try {
      await rename(meta.temp, `${final}${META_SUFFIX}`);
    } catch (e) {
      await unlink(final).catch(() => {});
      await unlink(meta.temp).catch(() => {});
      throw new PublishError(
        `${key}: its metadata could not be stored (${(e as NodeJS.ErrnoException).code}), so the object was removed again`,
        { cause: e },
      );
    }
    await syncDir(dir);
    return { sha256, sha256Recorded: true };
  }

  /** Copies the file into `temp` (open as `out`); returns its SHA-256. */
  private async fill(request: PutRequest, out: FileHandle, temp: string): Promise<string> {
    const { file } = request;
    if (request.trusted && request.expectedSha256) {
      // The kernel copies (copy_file_range); the size and mtime checks stand in for a second hash.
      await copyFile(file.path, temp);
      await file.assertUnchanged();
      request.onBytes?.(file.size);
      return request.expectedSha256;
    }
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, file.size)));
    for (let offset = 0; offset < file.size; offset += buf.length) {
      if (request.signal?.aborted) throw request.signal.reason;
      const n = Math.min(buf.length, file.size - offset);
      await file.readAt(buf, offset, n);
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      await writeFully(out, chunk);
      request.onBytes?.(n);
    }
    await file.assertUnchanged();
    const digest = hash.digest("hex");
    if (request.expectedSha256 && digest !== request.expectedSha256) {
      throw new PublishError(
        `${file.name} does not match its .sha256sum (file ${digest.slice(0, 12)}…, checksum file ${request.expectedSha256.slice(0, 12)}…): it changed after the checksum was made`,
      );
    }
    return digest;
  }

  /** Re-reads the stored object: is it still the bytes its metadata records? */
  async verify(key: string, sha256: string, onBytes?: (n: number) => void): Promise<boolean> {
    try {
      return (await sha256File(this.pathOf(key), onBytes)) === sha256;
    } catch {
      return false;
    }
  }

  async getTags(key: string): Promise<Record<string, string>> {
    return (await readJson<Record<string, string>>(`${this.pathOf(key)}${TAGS_SUFFIX}`)) ?? {};
  }

  async putTags(key: string, tags: Tags): Promise<void> {
    const path = this.pathOf(key);
    if (!(await head(path))) throw new PublishError(`cannot tag ${key}: no such object in ${this.url}`);
    await writeAtomically(`${path}${TAGS_SUFFIX}`, (out) => writeFully(out, jsonBytes(tags)));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
      throw new PublishError(`cannot read ${key} from ${this.url}: ${code}`, { cause: e });
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    // The object first: without it, leftover sidecars describe nothing (head ignores them).
    for (const file of [path, `${path}${META_SUFFIX}`, `${path}${TAGS_SUFFIX}`]) {
      try {
        await unlink(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") {
          throw new PublishError(`cannot delete ${key} from ${this.url}: ${code}`, { cause: e });
        }
      }
    }
  }

  urlFor(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  async close(): Promise<void> {}
}

async function head(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

async function writeFully(out: FileHandle, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await out.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

/** Temp file beside `final` → fill → fsync; the caller renames it. Removes the temp file on failure. */
async function writeTemp<T>(
  final: string,
  fill: (out: FileHandle, temp: string) => Promise<T>,
): Promise<{ temp: string; result: T }> {
  const dir = dirname(final);
  const temp = join(dir, `.${basename(final)}.${process.pid}.${randomBytes(6).toString("hex")}.partial`);
  const out = await open(temp, "wx", 0o644);
  let result: T;
  try {
    result = await fill(out, temp);
    await out.sync();
  } catch (e) {
    await out.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e;
  }
  await out.close();
  return { temp, result };
}

/** writeTemp, then the rename into place and an fsync of the directory. */
async function writeAtomically<T>(
  final: string,
  fill: (out: FileHandle, temp: string) => Promise<T>,
): Promise<T> {
  const { temp, result } = await writeTemp(final, fill);
  try {
    await rename(temp, final);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(final));
  return result;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

/** Temp files of `name` (and its sidecars) left by a process that no longer exists (killed mid-write). */
async function removeStalePartials(dir: string, name: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    const m = PARTIAL.exec(entry);
    if (!m || !(m[1] === name || m[1]!.startsWith(`${name}.`))) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !isAlive(pid)) await unlink(join(dir, entry)).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
