/** Multipart sizes: S3's limits and our defaults (kept apart from s3-store.ts so the SDK loads only when used). */

export const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const MAX_PARTS = 10_000;
/** 4 parts of 32 MiB in flight: about 128 MiB of part buffers whatever the file size. */
export const DEFAULT_PART_SIZE = 32 * MiB;
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 64;
