/**
 * Retries with exponential backoff and full jitter, for transient network and service failures.
 * Shared by every layer that talks to a remote service (the object stores, the Mattermost webhook).
 */

export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Source of jitter in [0, 1); seeded in tests. */
  readonly random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 20_000 };

export interface RetryNotice {
  readonly what: string;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/** Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor((policy.random ?? Math.random)() * cap);
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const TRANSIENT_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
]);
const TRANSIENT_MESSAGES = /socket hang up|ECONNRESET|EPIPE|aborted|other side closed|timed out/i;

/** Throttling, 5xx, timeouts and dropped connections: worth another try. Walks the `cause` chain. */
export function isTransient(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== "object") return false;
    const err = e as {
      name?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
      status?: number;
    };
    if (err.name === "AbortError") return false;
    const status = err.$metadata?.httpStatusCode ?? err.status;
    // 501 Not Implemented is an answer, not a hiccup.
    if (status !== undefined && (status === 429 || (status >= 500 && status !== 501))) return true;
    if (err.code && TRANSIENT_CODES.has(err.code)) return true;
    if (err.name && TRANSIENT_NAMES.has(err.name)) return true;
    if (err.message && TRANSIENT_MESSAGES.test(err.message)) return true;
  }
  return false;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly isRetryable?: (error: unknown) => boolean;
  readonly onRetry?: ((notice: RetryNotice) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
  /** A delay the service asked for (e.g. Retry-After), used instead of the backoff, capped at maxDelayMs. */
  readonly requestedDelayMs?: ((error: unknown) => number | undefined) | undefined;
}

/** Runs `fn` until it succeeds, fails with a non-transient error, or runs out of attempts. */
export async function withRetry<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const retryable = options.isRetryable ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt >= options.policy.attempts || !retryable(error)) throw error;
      const requested = options.requestedDelayMs?.(error);
      const delayMs =
        requested === undefined
          ? backoffDelay(attempt, options.policy)
          : Math.min(options.policy.maxDelayMs, requested);
      options.onRetry?.({ what, attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/** A small seeded PRNG (mulberry32) for reproducible jitter in tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
