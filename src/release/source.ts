/**
 * Where a released folder is read from for verification: a local directory, or an HTTP(S) base URL
 * (the bucket's public URL, or any server serving the folder). Files are streamed and hashed, never
 * held whole in memory; only small ones (CHECKSUM, signatures, bundles) are read whole.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UsageError, VerificationFailedError } from "../errors.js";

export interface FileDigest {
  readonly size: number;
  readonly sha256: string;
}

export interface ReleaseSource {
  /** The folder or base URL, without credentials, for messages. */
  readonly where: string;
  /** A small file's bytes; undefined when it does not exist. */
  read(name: string, maxBytes?: number): Promise<Buffer | undefined>;
  /** Size and SHA-256 of a file, streamed; undefined when it does not exist. */
  digest(name: string, onBytes?: (bytes: number) => void): Promise<FileDigest | undefined>;
}

/** A whole file read at most this large (bundles and CHECKSUM are kilobytes). */
export const SMALL_FILE_LIMIT = 64 * 1024 * 1024;

/** `FOLDER` or `http(s)://…/FOLDER/`. */
export async function openReleaseSource(
  location: string,
  options: { timeoutMs?: number } = {},
): Promise<ReleaseSource> {
  if (/^https?:\/\//i.test(location)) return httpSource(location, options.timeoutMs ?? 60_000);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith("file://")) {
    throw new UsageError(
      `unsupported location ${location.split("?")[0]} (valid: a local folder, file://, http:// or https://)`,
    );
  }
  const dir = resolve(location.startsWith("file://") ? decodeURIComponent(location.slice(7)) : location);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    throw new UsageError(`${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a folder (give the folder holding CHECKSUM)`);
  return folderSource(dir);
}

function checkName(name: string): void {
  if (
    name === "" ||
    name === "." ||
    name === ".." ||
    name.includes("/") ||
    name.includes("\\") ||
    name.includes("\0")
  ) {
    throw new VerificationFailedError(
      `CHECKSUM lists ${JSON.stringify(name)}, which is not a plain file name`,
    );
  }
}

function folderSource(dir: string): ReleaseSource {
  return {
    where: dir,
    async read(name, maxBytes = SMALL_FILE_LIMIT) {
      checkName(name);
      const path = join(dir, name);
      try {
        const st = await stat(path);
        if (!st.isFile()) return undefined;
        if (st.size > maxBytes)
          throw new VerificationFailedError(`${name} is ${st.size} bytes, more than such a file can be`);
        return await readFile(path);
      } catch (e) {
        if (e instanceof VerificationFailedError) throw e;
        return undefined;
      }
    },
    async digest(name, onBytes) {
      checkName(name);
      const path = join(dir, name);
      try {
        if (!(await stat(path)).isFile()) return undefined;
      } catch {
        return undefined;
      }
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        onBytes?.((chunk as Buffer).length);
      }
      return { size, sha256: hash.digest("hex") };
    },
  };
}

function httpSource(base: string, timeoutMs: number): ReleaseSource {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(base.slice(0, 80))}`);
  }
  if (url.username || url.password) throw new UsageError("credentials in the URL are not accepted");
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  url.hash = "";
  const where = url.href;
  const get = async (name: string): Promise<Response | undefined> => {
    checkName(name);
    let response: Response;
    try {
      response = await fetch(new URL(encodeURIComponent(name), url), {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "follow",
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new VerificationFailedError(`cannot fetch ${name} from ${where} (${cause})`);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new VerificationFailedError(`fetching ${name} from ${where} failed: HTTP ${response.status}`);
    }
    return response;
  };
  return {
    where,
    async read(name, maxBytes = SMALL_FILE_LIMIT) {
      const response = await get(name);
      if (!response) return undefined;
      const length = Number(response.headers.get("content-length") ?? "0");
      if (length > maxBytes) {
        await response.body?.cancel();
        throw new VerificationFailedError(`${name} is ${length} bytes, more than such a file can be`);
      }
      return Buffer.from(await response.arrayBuffer());
    },
    async digest(name, onBytes) {
      const response = await get(name);
      if (!response?.body)
        return response ? { size: 0, sha256: createHash("sha256").digest("hex") } : undefined;
      const hash = createHash("sha256");
      let size = 0;
      try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          size += chunk.length;
          onBytes?.(chunk.length);
        }
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
        throw new VerificationFailedError(
          `downloading ${name} from ${where} broke off after ${size} bytes (${cause})`,
        );
      }
      return { size, sha256: hash.digest("hex") };
    },
  };
}
