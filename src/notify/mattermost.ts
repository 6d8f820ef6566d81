/**
 * Posting to a Mattermost incoming webhook. The webhook URL is a secret (its path is the key): it is
 * never printed, and every message that could contain it is masked. Delivery failures are returned
 * as a result, not thrown, so a successful build is never failed by its notification.
 */
import { UsageError } from "../errors.js";
import { isTransient, type RetryPolicy, withRetry } from "../retry.js";

/**
 * The JSON body mattermost/action-mattermost-notify sends for a TEXT input. Unset fields are left out,
 * so the webhook's own channel, user name and icon apply.
 */
export interface MattermostPayload {
  readonly channel?: string;
  readonly username?: string;
  readonly icon_url?: string;
  readonly text: string;
}

export interface NotifyResult {
  readonly ok: boolean;
  readonly attempts: number;
  /** HTTP status of the last response, if there was one. */
  readonly status?: number;
  /** One line, webhook masked. */
  readonly error?: string;
  /** The webhook, masked: `https://chat.example.org/***`. */
  readonly target: string;
}

export interface PostOptions {
  /** Per attempt (default 10 s). */
  readonly timeoutMs?: number | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Told about each retry (one line, masked). */
  readonly onRetry?: ((line: string) => void) | undefined;
}

export const DEFAULT_NOTIFY_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

/** Mattermost's default maximum post length. */
export const MAX_TEXT = 16_383;

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** https only, except for loopback (a local test server or a tunnel). Never echoes the URL. */
export function validateWebhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError("MATTERMOST_WEBHOOK_URL is not a valid URL");
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return url;
  throw new UsageError(
    `MATTERMOST_WEBHOOK_URL must use https (plain http is allowed only for loopback), got ${url.protocol}//${url.host}/***`,
  );
}

/** `https://host/***`: enough to tell which server, nothing of the key. */
export function maskWebhookUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}/***`;
  } catch {
    return "***";
  }
}

/** Removes the webhook URL (and its path, which is the secret) from a message. */
export function scrub(message: string, webhookUrl: string): string {
  let out = message.split(webhookUrl).join(maskWebhookUrl(webhookUrl));
  try {
    const { pathname, search } = new URL(webhookUrl);
    for (const secret of [`${pathname}${search}`, pathname]) {
      if (secret.length > 1) out = out.split(secret).join("/***");
    }
  } catch {
    // not a URL: nothing more to hide
  }
  return out.replace(/\s*\n\s*/g, " ");
}

/** The payload, from the text and the environment (MATTERMOST_CHANNEL, MATTERMOST_USERNAME, MATTERMOST_ICON_URL). */
export function mattermostPayload(text: string, env: NodeJS.ProcessEnv = process.env): MattermostPayload {
  const clipped = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 2)}\n…` : text;
  const set = (value: string | undefined) => value || undefined;
  const fields = {
    channel: set(env.MATTERMOST_CHANNEL),
    // The seed posts as the GitHub user who triggered the run.
    username: set(env.MATTERMOST_USERNAME) ?? set(env.GITHUB_TRIGGERING_ACTOR) ?? set(env.GITHUB_ACTOR),
    icon_url: set(env.MATTERMOST_ICON_URL),
  };
  const present = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
  return { ...Object.fromEntries(present), text: clipped };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** A webhook answer that was not 2xx. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/**
 * POSTs the payload as JSON with a per-attempt timeout; retries on 429, 5xx, timeouts and network
 * errors with exponential backoff and jitter (honouring Retry-After up to the policy's maximum).
 * Throws only for an invalid webhook URL (bad input); every delivery failure comes back as a result.
 */
export async function postMattermost(
  webhookUrl: string,
  payload: MattermostPayload,
  options: PostOptions = {},
): Promise<NotifyResult> {
  const url = validateWebhookUrl(webhookUrl);
  const target = maskWebhookUrl(webhookUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const body = JSON.stringify(payload);
  const describe = (e: unknown): string => {
    if (e instanceof HttpFailure) return e.message;
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
    return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
  };
  let attempts = 0;
  try {
    const status = await withRetry(
      "Mattermost",
      async (attempt) => {
        attempts = attempt;
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "error",
        });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) {
          throw new HttpFailure(response.status, retryAfterMs(response.headers.get("retry-after")));
        }
        return response.status;
      },
      {
        policy: { ...DEFAULT_NOTIFY_RETRY, ...options.retry },
        isRetryable: (e) =>
          e instanceof HttpFailure
            ? e.status === 429 || e.status >= 500
            : (e as Error).name === "TimeoutError" ||
              (e as Error).message === "fetch failed" ||
              isTransient(e),
        requestedDelayMs: (e) => (e instanceof HttpFailure ? e.retryAfterMs : undefined),
        onRetry: ({ attempt, delayMs, error }) =>
          options.onRetry?.(
            scrub(
              `Mattermost ${target}: ${describe(error)}; attempt ${attempt + 1} in ${delayMs} ms`,
              webhookUrl,
            ),
          ),
      },
    );
    return { ok: true, attempts, status, target };
  } catch (e) {
    const message = scrub(
      `Mattermost notification to ${target} failed after ${attempts} ${attempts === 1 ? "attempt" : "attempts"}: ${describe(e)}`,
      webhookUrl,
    );
    return {
      ok: false,
      attempts,
      ...(e instanceof HttpFailure ? { status: e.status } : {}),
      error: message,
      target,
    };
  }
}
