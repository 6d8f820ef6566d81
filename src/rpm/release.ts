/**
 * The current point release, found as the seed finds it (`rpm -q --qf '%{VERSION}'` on
 * `{mirror}/almalinux-release-latest-{major}.{almaArch}.rpm`), but reading only the package's lead,
 * signature and header through HTTP Range requests and parsing them here.
 */
import http from "node:http";
import https from "node:https";
import { type AlmaArch, ARCHES, isKitten, LEGS, parseVariant, type Version } from "../catalog/catalog.js";
import { requireVersion } from "../catalog/validate.js";
import { isCloudImagesError, MirrorError, RpmFormatError, UsageError } from "../errors.js";
import { printable } from "../resolve/stamp.js";
import { tags } from "./header.js";
import { parseRpmFile, type RpmFileMetadata, verifyPackageHeaderDigests } from "./rpmfile.js";

export const DEFAULT_MIRROR = "https://repo.almalinux.org/almalinux";
export const RELEASE_PACKAGE = "almalinux-release";
/** First range asked for; real release packages have their header within it. */
export const INITIAL_RANGE = 64 * 1024;
const MAX_REDIRECTS = 5;

export interface ReleaseLookup {
  /** Major version from the catalog: 10-kitten, 10, 9 or 8. */
  readonly version: string;
  /** x86_64, aarch64 or x86_64_v2 (the latter where the catalog has -v2 legs). */
  readonly arch: string;
  /** Base URL; default https://repo.almalinux.org/almalinux. */
  readonly mirror?: string | undefined;
  /** Whole lookup, in milliseconds; default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Size of the first Range request; default 64 KiB. */
  readonly initialRange?: number | undefined;
}

export interface ReleaseInfo {
  /** The point release, e.g. `9.6` (Kitten: `10`). */
  readonly release: string;
  /** The package URL read, credentials removed (null for Kitten: no network). */
  readonly url: string | null;
  /** NEVRA of the release package read (null for Kitten). */
  readonly package: string | null;
  /** Bytes downloaded and HTTP requests made. */
  readonly bytesFetched: number;
  readonly requests: number;
}

/** Validates an almaArch for a version: x86_64_v2 only where the catalog builds -v2 legs. */
export function requireAlmaArch(version: Version, arch: string): AlmaArch {
  const v2 = Object.values(LEGS).some((byArch) =>
    Object.values(byArch).some((variants) =>
      variants.some((v) => {
        const p = parseVariant(v);
        return p?.version === version && p.suffix === "v2";
      }),
    ),
  );
  const valid: string[] = [...ARCHES, ...(v2 ? ["x86_64_v2"] : [])];
  if (!valid.includes(arch)) {
    throw new UsageError(
      `unknown arch "${printable(arch)}" for version ${version} (valid: ${valid.join(", ")})`,
    );
  }
  return arch as AlmaArch;
}

/** The release package URL for a version and arch under a mirror. */
export function releasePackageUrl(mirror: string, version: Version, arch: AlmaArch): URL {
  let base: URL;
  try {
    base = new URL(mirror);
  } catch {
    throw new MirrorError(
      `invalid mirror URL "${printable(redactText(mirror))}" (valid: an http:// or https:// URL)`,
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new MirrorError(`invalid mirror URL scheme "${base.protocol}" (valid: http:// or https://)`);
  }
  const path = base.pathname.replace(/\/+$/, "");
  base.pathname = `${path}/almalinux-release-latest-${version}.${arch}.rpm`;
  base.search = "";
  base.hash = "";
  return base;
}

/** Looks up the current point release. Kitten is always `10` and needs no network. */
export async function lookupRelease(input: ReleaseLookup): Promise<ReleaseInfo> {
  const version = requireVersion(input.version);
  const arch = requireAlmaArch(version, input.arch);
  if (isKitten(version)) return { release: "10", url: null, package: null, bytesFetched: 0, requests: 0 };
  const url = releasePackageUrl(input.mirror ?? DEFAULT_MIRROR, version, arch);
  const timeoutMs = input.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new UsageError(`invalid timeout ${timeoutMs} ms (valid: a positive number)`);
  const shown = redact(url);
  const fetched = await withDeadline(timeoutMs, shown, (signal) =>
    fetchRpmMetadata(url, input.initialRange ?? INITIAL_RANGE, signal),
  );
  const { header } = fetched.metadata;
  const name = header.string(tags.NAME);
  if (name !== RELEASE_PACKAGE) {
    throw new MirrorError(`${shown} holds package "${printable(name ?? "")}", not ${RELEASE_PACKAGE}`);
  }
  const release = header.string(tags.VERSION) ?? "";
  if (!new RegExp(`^${version}(\\.[0-9]+)*$`).test(release)) {
    throw new MirrorError(
      `${shown} holds ${RELEASE_PACKAGE} version "${printable(release)}", not a ${version}.x release`,
    );
  }
  const rel = header.string(tags.RELEASE);
  const pkgArch = header.string(tags.ARCH);
  return {
    release,
    url: shown,
    package: `${name}-${release}-${rel}${pkgArch ? `.${pkgArch}` : ""}`,
    bytesFetched: fetched.bytes,
    requests: fetched.requests,
  };
}

/** The URL without user name and password (they must never reach a message or a log). */
export function redact(url: URL): string {
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}

function redactText(s: string): string {
  return s.replace(/\/\/[^/@]*@/, "//");
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

interface Fetched {
  metadata: RpmFileMetadata;
  bytes: number;
  requests: number;
}

/**
 * Reads a package's metadata with Range requests, asking for more when the header is larger than the
 * first range. A server that ignores Range (200 with the whole body) is read only as far as needed.
 */
export async function fetchRpmMetadata(
  url: URL,
  initialRange: number,
  signal: AbortSignal,
): Promise<Fetched> {
  const shown = redact(url);
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
      if (hop >= MAX_REDIRECTS) throw new MirrorError(`${redact(url)}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, current);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new MirrorError(`${redact(url)}: redirect to unsupported scheme ${next.protocol}`);
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
