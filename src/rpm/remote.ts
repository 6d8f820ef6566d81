/**
 * Reading an RPM package's lead, signature and header over HTTP(S) without downloading the payload:
 * Range requests, asking for more when the header is larger than the first range, and stopping early
 * when a server ignores Range. Digests are checked; credentials in the URL never reach a message.
 */
import http from "node:http";
import https from "node:https";
import { isCloudImagesError, MirrorError, RpmFormatError, UsageError } from "../errors.js";
import { printable, redactUrl } from "../text.js";
import { parseRpmFile, type RpmFileMetadata, verifyPackageHeaderDigests } from "./rpmfile.js";

/** First range asked for; real release packages have their header within it. */
export const INITIAL_RANGE = 64 * 1024;
const MAX_REDIRECTS = 5;

export interface RemoteRpmOptions {
  /** The whole read, in milliseconds; default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Size of the first Range request; default 64 KiB. */
  readonly initialRange?: number | undefined;
}

export interface RemoteRpm {
  readonly metadata: RpmFileMetadata;
  /** Bytes downloaded and HTTP requests made. */
  readonly bytes: number;
  readonly requests: number;
}

/** Reads a remote package's metadata within a deadline; every failure is a one-line MirrorError. */
export async function readRemoteRpm(url: URL, options: RemoteRpmOptions = {}): Promise<RemoteRpm> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new UsageError(`invalid timeout ${timeoutMs} ms (valid: a positive number)`);
  return withDeadline(timeoutMs, redactUrl(url), (signal) =>
    fetchRpmMetadata(url, options.initialRange ?? INITIAL_RANGE, signal),
  );
}

async function withDeadline<T>(
  ms: number,
  shown: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await run(controller.signal);
  } catch (e) {
    if (controller.signal.aborted)
      throw new MirrorError(`${shown}: no complete answer within ${ms / 1000} s`);
    if (isCloudImagesError(e)) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new MirrorError(`${shown}: transfer failed: ${err.code ?? err.message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a package's metadata with Range requests, asking for more when the header is larger than the
 * first range. A server that ignores Range (200 with the whole body) is read only as far as needed.
 */
export async function fetchRpmMetadata(
  url: URL,
  initialRange: number,
  signal: AbortSignal,
): Promise<RemoteRpm> {
  const shown = redactUrl(url);
  let buf = Buffer.alloc(0);
  let needed = initialRange;
  let total: number | null = null;
  let bytes = 0;
  let requests = 0;
  const parse = () => {
    try {
      const r = parseRpmFile(buf);
      if (r.complete) verifyPackageHeaderDigests(r.metadata);
      return r;
    } catch (e) {
      if (e instanceof RpmFormatError) {
        throw new MirrorError(`${shown} is not a usable RPM package: ${describeBody(buf, e.message)}`);
      }
      throw e;
    }
  };
  for (;;) {
    requests++;
    const res = await get(url, { Range: `bytes=${buf.length}-${needed - 1}` }, signal);
    if (res.status === 206) {
      const start = contentRangeStart(res.headers["content-range"]);
      if (start !== buf.length) {
        res.body.destroy();
        throw new MirrorError(
          `${shown}: the server answered a different range (${res.headers["content-range"]})`,
        );
      }
      total = contentRangeTotal(res.headers["content-range"]) ?? total;
      const part = await readUpTo(res.body, needed - buf.length);
      bytes += part.length;
      buf = Buffer.concat([buf, part]);
    } else if (res.status === 200) {
      // Range ignored: the body starts at byte 0. Keep reading it until the metadata is complete.
      buf = Buffer.alloc(0);
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        buf = Buffer.concat([buf, chunk as Buffer]);
        if (buf.length < needed) continue;
        const r = parse();
        if (r.complete) {
          res.body.destroy();
          return { metadata: r.metadata, bytes, requests };
        }
        needed = r.needed;
      }
      total = buf.length;
    } else if (res.status === 416) {
      res.body.destroy();
      total = buf.length;
    } else {
      res.body.destroy();
      throw new MirrorError(`${shown}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    }
    const r = parse();
    if (r.complete) return { metadata: r.metadata, bytes, requests };
    if (total !== null && buf.length >= total) {
      throw new MirrorError(
        `${shown} is not a usable RPM package: it ends after ${buf.length} bytes, inside its header`,
      );
    }
    needed = Math.max(r.needed, buf.length + 1);
  }
}

function describeBody(buf: Buffer, why: string): string {
  const head = buf.subarray(0, 64).toString("latin1");
  if (/^\s*</.test(head)) return `the body looks like HTML ("${printable(head.trim(), 30)}")`;
  return why;
}

function contentRangeStart(v: string | undefined): number | null {
  const m = v ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : null;
}

function contentRangeTotal(v: string | undefined): number | null {
  const m = v ? /^bytes \d+-\d+\/(\d+)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : null;
}

interface Response {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/** One GET, following redirects (credentials are dropped when the host changes). */
async function get(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await getOnce(current, headers, signal);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location && res.status !== 304) {
      res.body.destroy();
      if (hop >= MAX_REDIRECTS)
        throw new MirrorError(`${redactUrl(url)}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, current);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new MirrorError(`${redactUrl(url)}: redirect to unsupported scheme ${next.protocol}`);
      }
      if (next.host !== current.host) {
        next.username = "";
        next.password = "";
      }
      current = next;
      continue;
    }
    return res;
  }
}

function getOnce(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers: { ...headers, "User-Agent": "cloud-images" }, signal }, (res) => {
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        headers: res.headers,
        body: res,
      });
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (signal.aborted) reject(e);
      else
        reject(
          new MirrorError(`cannot reach ${url.protocol}//${url.host}: ${e.code ?? e.message}`, { cause: e }),
        );
    });
  });
}

/** Reads at most `max` bytes of a body, then stops the transfer. */
async function readUpTo(body: http.IncomingMessage, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const c = chunk as Buffer;
      parts.push(c.subarray(0, Math.max(0, max - n)));
      n += c.length;
      if (n >= max) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts);
}
