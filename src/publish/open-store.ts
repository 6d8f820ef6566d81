/** Chooses the object store from a URL: `file://DIR` (the default, no service needed) or `s3://BUCKET`. */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import { FileStore } from "./file-store.js";
import { MAX_CONCURRENCY, MAX_PART_SIZE, MIN_PART_SIZE } from "./limits.js";
import type { S3StoreOptions } from "./s3-store.js";
import type { ObjectStore } from "./types.js";
import { validateHttpUrl } from "./url.js";
import { quoted } from "./validate.js";

export type StoreOptions = S3StoreOptions & {
  /** Directory that relative `file://./DIR` URLs are resolved against; default the process cwd. */
  readonly cwd?: string | undefined;
};

export const DEFAULT_STORE_URL = "file://./dist/bucket";

// S3 bucket naming rules (general purpose buckets), loosely: 3-63 of a-z 0-9 . -, alphanumeric ends.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export async function openStore(url: string, options: StoreOptions = {}): Promise<ObjectStore> {
  if (url.startsWith("file://")) return new FileStore(fileStoreRoot(url, options.cwd ?? process.cwd()));
  if (url.startsWith("s3://")) {
    const bucket = s3Bucket(url);
    // The AWS tools' own variables for another S3 endpoint (an S3-compatible store, a local stand-in).
    const endpointUrl =
      options.endpointUrl ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
    const s3Options = { ...options, endpointUrl };
    checkS3Options(s3Options);
    // The SDK is loaded only when an S3 store is used.
    const { S3Store } = await import("./s3-store.js");
    return new S3Store(bucket, s3Options);
  }
  throw new UsageError(`unsupported store ${quoted(url)} (valid: file://DIR, s3://BUCKET)`);
}

/** `file:///abs/dir`, `file://./rel/dir` or `file://rel/dir` (relative to `cwd`). */
export function fileStoreRoot(url: string, cwd: string): string {
  const rest = url.slice("file://".length);
  if (rest === "") throw new UsageError("file:// store needs a directory, e.g. file://./dist/bucket");
  if (/[\u0000-\u001f]/.test(rest)) throw new UsageError("file:// store path contains control characters");
  if (rest.startsWith("/")) {
    try {
      return fileURLToPath(url);
    } catch {
      throw new UsageError(`invalid file store URL ${quoted(url)}`);
    }
  }
  return resolve(cwd, decodeURIComponent(rest));
}

export function s3Bucket(url: string): string {
  const rest = url.slice("s3://".length);
  const bucket = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  if (bucket === "") throw new UsageError("s3:// store needs a bucket name, e.g. s3://almalinux-cloud");
  if (bucket.includes("/")) {
    throw new UsageError(
      `invalid store ${quoted(url)}: give the bucket only (s3://BUCKET) and the path with --prefix`,
    );
  }
  if (!BUCKET.test(bucket) || bucket.includes("..")) {
    throw new UsageError(`invalid bucket name ${quoted(bucket)} (3-63 characters: a-z 0-9 . -)`);
  }
  return bucket;
}

function checkS3Options(options: S3StoreOptions): void {
  // S3-compatible stores name regions freely (garage, minio…), but never with spaces or punctuation.
  if (options.region !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(options.region)) {
    throw new UsageError(
      `invalid region ${quoted(options.region)} (valid: letters, digits, - and _, e.g. us-east-1)`,
    );
  }
  if (options.endpointUrl !== undefined) validateHttpUrl(options.endpointUrl, "endpoint URL");
  if (options.publicBaseUrl !== undefined) validateHttpUrl(options.publicBaseUrl, "public base URL");
  const { partSizeBytes: part, concurrency } = options;
  if (part !== undefined && (!Number.isSafeInteger(part) || part < MIN_PART_SIZE || part > MAX_PART_SIZE)) {
    throw new UsageError(`invalid part size ${part} bytes (valid: 5 MiB to 5 GiB)`);
  }
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
  ) {
    throw new UsageError(`invalid concurrency ${concurrency} (valid: 1 to ${MAX_CONCURRENCY})`);
  }
}
