/** The object-store interface that `publish` writes through, and the shapes it reports. */

import type { LocalFile } from "./local-file.js";
import type { PublishedObject } from "./published-object.js";

/** S3-style object tags (at most 10; see validate.ts for the rules). */
export type Tags = Readonly<Record<string, string>>;

/** What a store knows about an object already under a key. */
export interface StoredObject {
  readonly size: number;
  /** Full-object SHA-256 (hex) recorded at upload time, when the store has one. */
  readonly sha256?: string | undefined;
  /** Where that SHA-256 was recorded: object metadata, or the reserved tag (multipart without a .sha256sum). */
  readonly sha256From?: "metadata" | "tag" | undefined;
  /** The store's version tag of the object (S3's ETag), when it has one. */
  readonly etag?: string | undefined;
}

export interface PutRequest {
  readonly key: string;
  readonly file: LocalFile;
  /** The SHA-256 the file must have (from its .sha256sum); the object is not committed when it differs. */
  readonly expectedSha256?: string | undefined;
  /**
   * expectedSha256 was computed by the caller from this very file (same size and mtime): a store
   * that copies without reading the bytes itself (file://) may skip hashing them again.
   */
  readonly trusted?: boolean | undefined;
  /** Called with the number of bytes just sent (or written). */
  readonly onBytes?: ((bytes: number) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface PutResult {
  /** SHA-256 (hex) of the bytes sent, computed while sending. */
  readonly sha256: string;
  /** False when the store could not record the SHA-256 with the object (a multipart upload started before it was known). */
  readonly sha256Recorded: boolean;
  /** The stored object's version tag (S3's ETag), to notice another writer replacing it. */
  readonly etag?: string | undefined;
}

export interface ObjectStore {
  readonly kind: "s3" | "file";
  /** Display form: `s3://bucket` or `file:///abs/dir`. Never contains credentials. */
  readonly url: string;
  /** Checks that the store can be used (credentials, bucket, directory) before anything is written. */
  check(): Promise<void>;
  head(key: string): Promise<StoredObject | undefined>;
  /** Refuses (UsageError) a key this store cannot hold, before anything is written. */
  validateKey?(key: string): void;
  /**
   * Re-reads a stored object and compares its SHA-256 (stores whose recorded hash could go stale, like
   * file://, implement it; S3 checks its own objects).
   */
  verify?(key: string, sha256: string, onBytes?: (n: number) => void): Promise<boolean>;
  /** Uploads atomically: either the whole object appears under `key`, or nothing new does. */
  put(request: PutRequest): Promise<PutResult>;
  getTags(key: string): Promise<Record<string, string>>;
  /** Replaces the object's whole tag set. */
  putTags(key: string, tags: Tags): Promise<void>;
  /** The whole object (meant for small ones: index documents, checksum files), or undefined when absent. */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes the object (and its tags); nothing happens when it is absent. */
  delete(key: string): Promise<void>;
  /** The public download URL of a key, if the store has one. */
  urlFor(key: string): string | undefined;
  close(): Promise<void>;
}

export type ObjectRole = PublishedObject["role"];

export type ObjectStatus = "uploaded" | "skipped" | "failed" | "not-attempted";

/** One object's outcome; a superset of PublishedObject, which the leg manifest records. */
export interface PublishObjectResult extends PublishedObject {
  readonly status: ObjectStatus;
  readonly tags: Tags;
  /** Bytes read from the local file for this object (hashing and uploading). */
  readonly bytesRead: number;
  /** Why it was not published (one line), when status is `failed`. */
  readonly error?: string;
  /** A failed object that nevertheless sits at its key (uploaded, then its tags failed). */
  readonly landed?: boolean;
}

export interface PublishResult {
  readonly store: string;
  readonly kind: "s3" | "file";
  readonly objects: readonly PublishObjectResult[];
  /** True when every object was uploaded or skipped, and tagged. */
  readonly ok: boolean;
}

export interface PublishProgress {
  readonly name: string;
  readonly key: string;
  readonly phase: "checking" | "hashing" | "verifying" | "uploading" | "tagging" | "done";
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Set with phase `done`. */
  readonly status?: ObjectStatus;
}
