/** Public download URLs in the seed's form. */
import { UsageError } from "../errors.js";
import { quoted } from "./validate.js";

/** The seed's base: S3 Transfer Acceleration, dual-stack endpoint. */
export function defaultPublicBase(bucket: string): string {
  return `https://${bucket}.s3-accelerate.dualstack.amazonaws.com`;
}

/** Each key segment percent-encoded (plain names such as `AlmaLinux-9-….qcow2` come out unchanged). */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/**
 * `https://{bucket}.s3-accelerate.dualstack.amazonaws.com/{key}`, or `{baseUrl}/{key}` when a base is
 * given (a trailing `/` on the base is ignored).
 */
export function publicUrl(bucket: string, key: string, baseUrl?: string): string {
  const base = (baseUrl ?? defaultPublicBase(bucket)).replace(/\/+$/, "");
  return `${base}/${encodeKey(key)}`;
}

/** An http(s) URL given on the command line (endpoint, public base); returns it normalised. */
export function validateHttpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid ${what} ${quoted(value)}: not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid ${what} ${quoted(value)}: use http:// or https://`);
  }
  if (url.username || url.password) {
    throw new UsageError(`invalid ${what}: credentials in the URL are not accepted`);
  }
  return value;
}
