export { FileStore } from "./file-store.js";
export { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from "./limits.js";
export { LocalFile } from "./local-file.js";
export { DEFAULT_STORE_URL, fileStoreRoot, openStore, type StoreOptions, s3Bucket } from "./open-store.js";
export { type PublishFile, type PublishOptions, publishFiles, publishResultOf, roleOf } from "./publish.js";
export {
  backoffDelay,
  DEFAULT_RETRY,
  isTransient,
  type RetryNotice,
  type RetryPolicy,
  seededRandom,
  withRetry,
} from "./retry.js";
export type { S3StoreOptions } from "./s3-store.js";
export { formatSha256sumLine, parseSha256sum, readSidecarSha256 } from "./sha256sum.js";
export type * from "./types.js";
export { defaultPublicBase, publicUrl } from "./url.js";
export { MAX_TAGS, parseTagArgs, SHA256_TAG, validatePrefix, validateTags } from "./validate.js";
