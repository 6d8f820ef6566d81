/** Checks on what we are asked to publish: key prefixes, object names and tags, before anything is written. */
import { UsageError } from "../errors.js";
import type { Tags } from "./types.js";

/** S3 limits: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html */
export const MAX_TAGS = 10;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
export const MAX_KEY_BYTES = 1024;
/** Tag key under which the full-object SHA-256 is kept when it could not go into object metadata. */
export const SHA256_TAG = "cloud-images-sha256";

// Letters, digits, white space and _ . : / = + - @ (the set S3 and IAM accept in tags).
const TAG_CHARS = /^[\p{L}\p{N}\p{Zs}_.:/=+\-@]*$/u;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Shows a user value safely inside a one-line message. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/**
 * A key prefix such as `images/9/9.6/gencloud/20260220143000`. Refuses `..` and `.` segments, a leading
 * `/`, empty segments and control characters; one trailing `/` is dropped. The empty prefix is the bucket root.
 */
export function validatePrefix(prefix: string): string {
  const p = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (p === "") return "";
  const bad = (why: string) => new UsageError(`invalid prefix ${quoted(prefix)}: ${why}`);
  if (CONTROL.test(p)) throw bad("it contains control characters");
  if (p.startsWith("/")) throw bad("it must not start with /");
  if (p.includes("\\")) throw bad("use / to separate segments, not \\");
  for (const segment of p.split("/")) {
    if (segment === "") throw bad("it has an empty segment (//)");
    if (segment === "." || segment === "..") throw bad(`it has a ${segment} segment`);
  }
  return p;
}

/** A file's name as the last key segment. */
export function validateObjectName(name: string): string {
  const bad = (why: string) => new UsageError(`invalid object name ${quoted(name)}: ${why}`);
  if (name === "" || name === "." || name === "..") throw bad("not a file name");
  if (CONTROL.test(name)) throw bad("it contains control characters");
  if (name.includes("/") || name.includes("\\")) throw bad("it contains a path separator");
  return name;
}

export function joinKey(prefix: string, name: string): string {
  const key = prefix === "" ? name : `${prefix}/${name}`;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new UsageError(`object key ${quoted(key)} is longer than ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

/** Tags S3 would accept; throws a UsageError naming the first offending tag. */
export function validateTags(tags: Tags): Tags {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) {
    throw new UsageError(`too many tags: ${entries.length} (S3 allows at most ${MAX_TAGS})`);
  }
  for (const [key, value] of entries) {
    const bad = (why: string) => new UsageError(`invalid tag ${quoted(`${key}=${value}`)}: ${why}`);
    if (key.length === 0) throw bad("the key is empty");
    if ([...key].length > MAX_TAG_KEY_LENGTH)
      throw bad(`the key is longer than ${MAX_TAG_KEY_LENGTH} characters`);
    if ([...value].length > MAX_TAG_VALUE_LENGTH) {
      throw bad(`the value is longer than ${MAX_TAG_VALUE_LENGTH} characters`);
    }
    if (!TAG_CHARS.test(key) || !TAG_CHARS.test(value)) {
      throw bad("only letters, digits, spaces and _ . : / = + - @ are allowed");
    }
    if (key.toLowerCase().startsWith("aws:")) throw bad("keys starting with aws: are reserved");
    if (key === SHA256_TAG) throw bad(`the key ${SHA256_TAG} is reserved for the object's SHA-256`);
  }
  return tags;
}

/** Parses repeated `--tag KEY=VALUE` arguments (the value may be empty or contain `=`). */
export function parseTagArgs(args: readonly string[]): Tags {
  const tags: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq < 0) throw new UsageError(`invalid tag ${quoted(arg)}: expected KEY=VALUE`);
    const key = arg.slice(0, eq);
    if (Object.hasOwn(tags, key)) throw new UsageError(`tag ${quoted(key)} is given twice`);
    tags[key] = arg.slice(eq + 1);
  }
  return validateTags(tags);
}
