/**
 * publishFiles: puts local files under `{prefix}/{name}` in a store, one after the other, each
 * skipped when an identical object (same size and SHA-256) is already there, then tagged and the
 * tags read back. Stops at the first failure and throws a PublishError naming what was and was not
 * published. Used by `cloud-images publish` and by the pipeline's publish step.
 */
import { basename } from "node:path";
import { PublishError, UsageError } from "../errors.js";
import { acquireLock, type Lock } from "../process/lock.js";
import { lockDir } from "../state.js";
import { LocalFile } from "./local-file.js";
import { readSidecarSha256 } from "./sha256sum.js";
import type {
  ObjectRole,
  ObjectStore,
  PublishObjectResult,
  PublishProgress,
  PublishResult,
  StoredObject,
  Tags,
} from "./types.js";
import {
  joinKey,
  MAX_TAGS,
  SHA256_TAG,
  validateObjectName,
  validatePrefix,
  validateTags,
} from "./validate.js";

export interface PublishFile {
  readonly path: string;
  /** Default: guessed from the name (`.sha256sum` checksum, `.txt` packages, image extensions image). */
  readonly role?: ObjectRole | undefined;
}

export interface PublishOptions {
  /** Key prefix, e.g. `images/9/9.6/gencloud/20260220143000`. */
  readonly prefix: string;
  readonly tags?: Tags | undefined;
  /** Known SHA-256s by object name (hex), e.g. from the pipeline's checksum step. */
  readonly sha256sums?: Readonly<Record<string, string>> | undefined;
  /**
   * SHA-256s the caller computed itself, by object name, with the file's size and mtime at the time.
   * A file that still has that size and mtime is taken to have that SHA-256, and a store that can copy
   * without reading through us (file://) does not hash it again.
   */
  readonly hashedFiles?:
    | Readonly<Record<string, { sha256: string; size: number; mtimeMs: number }>>
    | undefined;
  /** Also read `FILE.sha256sum` beside each file when it exists (default true). */
  readonly useSidecarChecksums?: boolean | undefined;
  readonly onProgress?: ((progress: PublishProgress) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Rounds of PutObjectTagging + GetObjectTagging before giving up on an object's tags (default 3). */
  readonly tagAttempts?: number | undefined;
  /**
   * Where the per-key locks live (default: the state directory's locks): two publishes of one key on
   * this machine never overlap, the second is refused naming the first.
   */
  readonly lockDir?: string | undefined;
  /** Things worth a warning that do not fail the publish (a corrupted stored object uploaded again). */
  readonly onNotice?: ((line: string) => void) | undefined;
}

interface Planned {
  readonly file: PublishFile;
  readonly name: string;
  readonly key: string;
  readonly role: ObjectRole;
}

/** Guesses an object's role from its file name. */
export function roleOf(name: string): ObjectRole {
  if (name.endsWith(".sha256sum")) return "checksum";
  if (name.endsWith(".manifest.json")) return "manifest";
  if (/\.(cdx|spdx|sbom)(\.json)?$/.test(name)) return "sbom";
  if (name.endsWith(".txt")) return "packages";
  if (/\.(qcow2|raw|vhd|vhdx|vmdk|img|box|tar\.gz|tar\.xz|ova)$/.test(name)) return "image";
  return "other";
}

/** Checks everything that can be checked before the first byte is written. */
function plan(files: readonly PublishFile[], options: PublishOptions): { planned: Planned[]; tags: Tags } {
  if (files.length === 0) throw new UsageError("nothing to publish: give at least one file");
  const prefix = validatePrefix(options.prefix);
  const tags = validateTags(options.tags ?? {});
  const seen = new Set<string>();
  const planned = files.map((file) => {
    const name = validateObjectName(basename(file.path));
    if (seen.has(name)) throw new UsageError(`${name} is given twice (objects are named after the file)`);
    seen.add(name);
    const sum = options.sha256sums?.[name];
    if (sum !== undefined && !/^[0-9a-f]{64}$/.test(sum)) {
      throw new UsageError(`the SHA-256 given for ${name} is not 64 lowercase hex digits`);
    }
    return { file, name, key: joinKey(prefix, name), role: file.role ?? roleOf(name) };
  });
  return { planned, tags };
}

export async function publishFiles(
  store: ObjectStore,
  files: readonly PublishFile[],
  options: PublishOptions,
): Promise<PublishResult> {
  const { planned, tags } = plan(files, options);
  for (const item of planned) store.validateKey?.(item.key);
  const locks: Lock[] = [];
  try {
    for (const item of [...planned].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      locks.push(
        await acquireLock(`${store.url}/${item.key}`, {
          dir: options.lockDir ?? lockDir(),
          purpose: "cloud-images publish",
          what: `${store.url}/${item.key}`,
        }),
      );
    }
    return await publishLocked(store, planned, tags, options);
  } finally {
    for (const lock of locks) await lock.release();
  }
}

async function publishLocked(
  store: ObjectStore,
  planned: readonly Planned[],
  tags: Tags,
  options: PublishOptions,
): Promise<PublishResult> {
  // Open every file and read every .sha256sum first: a missing file is bad input, found before any upload.
  const opened: LocalFile[] = [];
  const expected: (string | undefined)[] = [];
  const trusted: boolean[] = [];
  try {
    for (const item of planned) {
      const file = await LocalFile.open(item.file.path);
      opened.push(file);
      const hashed = options.hashedFiles?.[item.name];
      const same = hashed !== undefined && hashed.size === file.size && hashed.mtimeMs === file.mtimeMs;
      trusted.push(same);
      expected.push(
        (same ? hashed.sha256 : undefined) ??
          options.sha256sums?.[item.name] ??
          (options.useSidecarChecksums === false
            ? undefined
            : await readSidecarSha256(item.file.path, item.name)),
      );
    }
    await store.check();
  } catch (e) {
    await Promise.all(opened.map((f) => f.close()));
    throw e;
  }

  const results: PublishObjectResult[] = [];
  try {
    for (const [i, item] of planned.entries()) {
      const file = opened[i]!;
      try {
        results.push(await publishOne(store, item, file, expected[i], trusted[i]!, tags, options));
      } catch (e) {
        const message = oneLine(e);
        const failed = resultOf(item, store, file.size, "", "failed", {}, file.bytesRead, message);
        results.push(e instanceof LandedError ? { ...failed, sha256: e.sha256, landed: true } : failed);
        for (const rest of planned.slice(i + 1)) {
          results.push(
            resultOf(rest, store, opened[planned.indexOf(rest)]!.size, "", "not-attempted", {}, 0),
          );
        }
        const result: PublishResult = { store: store.url, kind: store.kind, objects: results, ok: false };
        throw new PublishError(failureMessage(result, message), { cause: e, result });
      }
    }
  } finally {
    await Promise.all(opened.map((f) => f.close()));
  }
  return { store: store.url, kind: store.kind, objects: results, ok: true };
}

async function publishOne(
  store: ObjectStore,
  item: Planned,
  file: LocalFile,
  expectedSha256: string | undefined,
  trusted: boolean,
  tags: Tags,
  options: PublishOptions,
): Promise<PublishObjectResult> {
  const progress = (phase: PublishProgress["phase"], bytesDone: number, status?: PublishProgress["status"]) =>
    options.onProgress?.({
      name: item.name,
      key: item.key,
      phase,
      bytesDone,
      bytesTotal: file.size,
      ...(status ? { status } : {}),
    });
  progress("checking", 0);
  const existing = await store.head(item.key);
  let sha256 = expectedSha256;
  if (existing && existing.size === file.size && existing.sha256) {
    if (sha256 === undefined || !trusted) {
      // Only an object that might be identical costs a hashing pass; the file itself is hashed even
      // with a .sha256sum beside it, so a file that no longer matches it is refused, never skipped.
      let hashed = 0;
      const actual = await file.sha256((n) => {
        hashed += n;
        progress("hashing", hashed);
      });
      if (sha256 !== undefined && actual !== sha256) throw mismatch(file.name, actual, sha256);
      sha256 = actual;
    }
    if (existing.sha256 === sha256) {
      let verified = 0;
      const intact =
        !store.verify ||
        (await store.verify(item.key, sha256, (n) => {
          verified += n;
          progress("verifying", verified);
        }));
      if (intact) {
        const applied = await applyTags(store, item.key, withStoredHash(tags, existing), options);
        progress("done", file.size, "skipped");
        return resultOf(item, store, file.size, sha256, "skipped", applied, file.bytesRead);
      }
      options.onNotice?.(
        `${store.url}/${item.key} no longer has the bytes its metadata records (corrupted in the store): uploading it again`,
      );
    }
  }
  let sent = 0;
  progress("uploading", 0);
  const put = await store.put({
    key: item.key,
    file,
    expectedSha256: sha256,
    trusted: trusted && sha256 === expectedSha256,
    onBytes: (n) => {
      sent += n;
      progress("uploading", sent);
    },
    signal: options.signal,
  });
  progress("tagging", file.size);
  // A multipart upload started without a known SHA-256 keeps it in a reserved tag instead of metadata.
  const wanted =
    put.sha256Recorded || Object.keys(tags).length >= MAX_TAGS ? tags : { ...tags, [SHA256_TAG]: put.sha256 };
  let applied: Tags;
  try {
    applied = await applyTags(store, item.key, wanted, options, put.etag);
  } catch (e) {
    // The object is at its key: say so, whatever went wrong with its tags.
    throw new LandedError(put.sha256, e);
  }
  progress("done", file.size, "uploaded");
  return resultOf(item, store, file.size, put.sha256, "uploaded", applied, file.bytesRead);
}

function withStoredHash(tags: Tags, existing: StoredObject): Tags {
  return existing.sha256From === "tag" && existing.sha256 ? { ...tags, [SHA256_TAG]: existing.sha256 } : tags;
}

/** An object that reached its key before publishing it failed (its tags). */
class LandedError extends PublishError {
  constructor(
    readonly sha256: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

function mismatch(name: string, actual: string, expected: string): PublishError {
  return new PublishError(
    `${name} does not match its .sha256sum (file ${actual.slice(0, 12)}…, checksum file ${expected.slice(0, 12)}…): it changed after the checksum was made`,
  );
}

/**
 * Puts the tag set and reads it back. A put that did not stick (the tags read back are still the ones
 * before it) is repeated: the seed's one-shot put-object-tagging could silently leave an object untagged,
 * i.e. not public. Tags that are neither ours nor the earlier ones, or an object whose version changed
 * since we wrote it (`etag`), mean another writer is publishing the same key: that is reported, and its
 * tags are not overwritten.
 */
async function applyTags(
  store: ObjectStore,
  key: string,
  tags: Tags,
  options: Pick<PublishOptions, "tagAttempts">,
  etag?: string,
): Promise<Tags> {
  const attempts = options.tagAttempts ?? 3;
  const before = await store.getTags(key);
  let current = before;
  for (let round = 1; !sameTags(current, tags); round++) {
    if (round > 1 && !sameTags(current, before)) {
      throw new PublishError(
        `${key}: another writer changed its tags while this publish set them (wanted ${formatTags(tags)}, found ${formatTags(current)}); not overwritten`,
      );
    }
    if (round > attempts) {
      throw new PublishError(
        `${key} was uploaded but its tags did not stick after ${attempts} attempts (wanted ${formatTags(tags)}, found ${formatTags(current)})`,
      );
    }
    await store.putTags(key, tags);
    current = await store.getTags(key);
  }
  if (etag !== undefined) {
    const now = await store.head(key);
    if (now?.etag !== undefined && now.etag !== etag) {
      throw new PublishError(
        `${key} was replaced by another writer after this publish uploaded it (ETag ${now.etag}, ours ${etag}); the tags read back may be theirs`,
      );
    }
  }
  return current;
}

function sameTags(a: Tags, b: Tags): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function formatTags(tags: Tags): string {
  const entries = Object.entries(tags);
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

function resultOf(
  item: Planned,
  store: ObjectStore,
  size: number,
  sha256: string,
  status: PublishObjectResult["status"],
  tags: Tags,
  bytesRead: number,
  error?: string,
): PublishObjectResult {
  const published = status === "uploaded" || status === "skipped";
  const url = published ? store.urlFor(item.key) : undefined;
  const visibleTags = Object.fromEntries(Object.entries(tags).filter(([k]) => k !== SHA256_TAG));
  return {
    role: item.role,
    name: item.name,
    key: item.key,
    size,
    sha256,
    ...(url ? { url } : {}),
    skipped: status === "skipped",
    status,
    tags: visibleTags,
    bytesRead,
    ...(error ? { error } : {}),
  };
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}

/** What reached its key and what did not, exactly. */
function failureMessage(result: PublishResult, reason: string): string {
  const names = (keep: (o: PublishObjectResult) => boolean) => result.objects.filter(keep).map((o) => o.name);
  const done = names((o) => o.status === "uploaded" || o.status === "skipped");
  const landed = names((o) => o.status === "failed" && o.landed === true);
  const missing = names((o) => (o.status === "failed" && !o.landed) || o.status === "not-attempted");
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`not published: ${missing.join(", ")} (${reason})`);
  if (landed.length > 0) parts.push(`stored but not tagged: ${landed.join(", ")} (${reason})`);
  parts.push(
    done.length > 0
      ? `published: ${done.join(", ")}`
      : landed.length > 0
        ? "nothing else was published"
        : "nothing was published",
  );
  return parts.join("; ");
}

/** The PublishResult a PublishError from publishFiles carries, if any. */
export function publishResultOf(error: unknown): PublishResult | undefined {
  if (!(error instanceof PublishError)) return undefined;
  const r = error.result as PublishResult | undefined;
  return r && Array.isArray(r.objects) ? r : undefined;
}
