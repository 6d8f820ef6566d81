/**
 * `file://DIR`: objects as files under DIR with the same key layout as the bucket. Tags live in a
 * sidecar `KEY.tags.json`, size and SHA-256 in `KEY.meta.json`. Every write goes to a temp file in the
 * same directory, is fsynced and renamed, so the final name only ever holds a complete object.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  copyFile,
  type FileHandle,
  mkdir,
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

  async put(request: PutRequest): Promise<PutResult> {
    const { key, file } = request;
    const final = this.pathOf(key);
    const dir = dirname(final);
    await makeDirs(dir);
    await removeStalePartials(dir, basename(final));
    if (request.trusted && request.expectedSha256) {
      // The kernel copies (copy_file_range); the size and mtime checks stand in for a second hash.
      const sha256 = request.expectedSha256;
      await writeAtomically(final, async (_out, temp) => {
        await copyFile(file.path, temp);
        await file.assertUnchanged();
        request.onBytes?.(file.size);
      });
      await writeAtomically(`${final}${META_SUFFIX}`, (out) =>
        writeFully(out, jsonBytes({ size: file.size, sha256 })),
      );
      return { sha256, sha256Recorded: true };
    }
    const hash = createHash("sha256");
    const sha256 = await writeAtomically(final, async (out) => {
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
    });
    const meta: Meta = { size: file.size, sha256 };
    await writeAtomically(`${final}${META_SUFFIX}`, (out) => writeFully(out, jsonBytes(meta)));
    return { sha256, sha256Recorded: true };
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

/**
 * `mkdir -p`, one component at a time: Node 20's recursive mkdir never returns on paths where
 * mkdir(2) answers ENOENT under an existing parent (e.g. inside /proc).
 */
async function makeDirs(dir: string): Promise<void> {
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

/** Temp file beside `final` → fill → fsync → rename → fsync the directory. Removes the temp file on failure. */
async function writeAtomically<T>(
  final: string,
  fill: (out: FileHandle, temp: string) => Promise<T>,
): Promise<T> {
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
  try {
    await rename(temp, final);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
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
