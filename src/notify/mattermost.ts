/**
 * Posting to a Mattermost incoming webhook. The webhook URL is a secret (its path is the key): it is
 * never printed, and every message that could contain it is masked. Delivery failures are returned
 * as a result, not thrown, so a successful build is never failed by its notification.
 */
import { UsageError } from "../errors.js";
import { backoffDelay, isTransient, type RetryPolicy } from "../publish/retry.js";

/** The JSON body mattermost/action-mattermost-notify sends for a TEXT input. */
export interface MattermostPayload {
  readonly channel: string;
  readonly username: string;
  readonly icon_url: string;
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
  return {
    channel: env.MATTERMOST_CHANNEL ?? "",
    // The seed posts as the GitHub user who triggered the run.
    username: env.MATTERMOST_USERNAME ?? env.GITHUB_TRIGGERING_ACTOR ?? env.GITHUB_ACTOR ?? "",
    icon_url: env.MATTERMOST_ICON_URL ?? "",
    text: clipped,
  };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
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
  const policy = { ...DEFAULT_NOTIFY_RETRY, ...options.retry };
  const body = JSON.stringify(payload);
  let status: number | undefined;
  let error = "";
  for (let attempt = 1; ; attempt++) {
    let retryable: boolean;
    let wait: number | undefined;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        redirect: "error",
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status, target };
      error = `HTTP ${status}`;
      retryable = status === 429 || status >= 500;
      wait = retryAfterMs(response.headers.get("retry-after"));
    } catch (e) {
      status = undefined;
      const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      error =
        err.name === "TimeoutError"
          ? `no answer within ${options.timeoutMs ?? 10_000} ms`
          : (err.cause?.code ?? err.cause?.message ?? err.message ?? String(e));
      retryable = err.name === "TimeoutError" || isTransient(e) || err.message === "fetch failed";
    }
    if (!retryable || attempt >= policy.attempts) {
      const message = scrub(
        `Mattermost notification to ${target} failed after ${attempt} ${attempt === 1 ? "attempt" : "attempts"}: ${error}`,
        webhookUrl,
      );
      return {
        ok: false,
        attempts: attempt,
        ...(status !== undefined ? { status } : {}),
        error: message,
        target,
      };
    }
    const delay = Math.min(policy.maxDelayMs, wait ?? backoffDelay(attempt, policy));
    options.onRetry?.(
      scrub(`Mattermost ${target}: ${error}; attempt ${attempt + 1} in ${delay} ms`, webhookUrl),
    );
    await new Promise((r) => setTimeout(r, delay));
  }
}
