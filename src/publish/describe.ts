/** One-line descriptions of SDK and network errors (no secrets: messages only, never requests). */

export function nameOf(e: unknown): string | undefined {
  return (e as { name?: string } | undefined)?.name;
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** `SlowDown (HTTP 503)`, `ECONNREFUSED`, `socket hang up`... */
export function describeError(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: unknown } | undefined;
  const status = statusOf(e);
  const code = err?.code ?? (err?.cause as { code?: string } | undefined)?.code;
  if (code && /^E[A-Z]+$/.test(code)) return `connection failed (${code})`;
  // HEAD answers carry no error body: the SDK can only say "UnknownError".
  if (status === 403 && (!err?.name || /^(Unknown|UnknownError|Forbidden|AccessDenied)$/.test(err.name))) {
    return "access denied (HTTP 403): check the AWS credentials and the bucket's permissions";
  }
  const name = err?.name && err.name !== "Error" ? err.name : undefined;
  const message = (err?.message ?? String(e)).split("\n")[0]!.slice(0, 200);
  const head = name && name !== "Unknown" && !message.startsWith(name) ? `${name}: ${message}` : message;
  return status ? `${head} (HTTP ${status})` : head;
}
