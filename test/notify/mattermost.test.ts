/** postMattermost against a local webhook server: the exact JSON, retries on 429/5xx, timeouts, masking. */
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import {
  maskWebhookUrl,
  mattermostPayload,
  postMattermost,
  validateWebhookUrl,
} from "../../src/notify/mattermost.js";
import { type Answer, FakeWebhook } from "./helpers/webhook.js";

const hooks: FakeWebhook[] = [];
afterEach(async () => {
  for (const h of hooks.splice(0)) await h.close();
});
async function hook(answers?: Answer[]): Promise<FakeWebhook> {
  const h = await new FakeWebhook(answers).start();
  hooks.push(h);
  return h;
}
const fast = { retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 } };
const KEY = "x1y2z3secretkey0123456789";

describe("Mattermost webhook", () => {
  it("posts exactly {channel, username, text} as JSON, leaving out what is not set", async () => {
    const h = await hook();
    const payload = mattermostPayload("**hello** `world`\n- Tests passed ✅", {
      MATTERMOST_CHANNEL: "cloud-images",
      GITHUB_TRIGGERING_ACTOR: "octocat",
    });
    const result = await postMattermost(h.url(), payload, fast);
    expect(result).toEqual({ ok: true, attempts: 1, status: 200, target: `http://127.0.0.1:${h.port}/***` });
    expect(h.received).toHaveLength(1);
    const [req] = h.received;
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe(`/hooks/${KEY}`);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.body).toBe(
      JSON.stringify({
        channel: "cloud-images",
        username: "octocat",
        text: "**hello** `world`\n- Tests passed ✅",
      }),
    );
    expect(JSON.stringify(mattermostPayload("x", { MATTERMOST_CHANNEL: "", GITHUB_ACTOR: "" }))).toBe(
      '{"text":"x"}',
    );
    expect(
      mattermostPayload("x", {
        MATTERMOST_USERNAME: "bot",
        GITHUB_ACTOR: "octocat",
        MATTERMOST_ICON_URL: "https://i/x.png",
      }),
    ).toEqual({ username: "bot", icon_url: "https://i/x.png", text: "x" });
  });

  it("retries 503 and 429 (honouring Retry-After), then delivers", async () => {
    const h = await hook([
      { status: 503 },
      { status: 429, headers: { "retry-after": "0" } },
      { status: 200 },
    ]);
    const notices: string[] = [];
    const result = await postMattermost(h.url(), mattermostPayload("x", {}), {
      ...fast,
      onRetry: (line) => notices.push(line),
    });
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(3);
    expect(h.received.map((r) => r.body)).toEqual(Array(3).fill(h.received[0]!.body));
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(/HTTP 503; attempt 2/);
    for (const n of notices) expect(n).not.toContain(KEY);
  });

  it("gives up after the retry budget with a masked one-line error; does not retry 4xx", async () => {
    const h = await hook([{ status: 500 }]);
    const result = await postMattermost(h.url(), mattermostPayload("x", {}), fast);
    expect(result).toMatchObject({ ok: false, attempts: 4, status: 500 });
    expect(result.error).toBe(
      `Mattermost notification to http://127.0.0.1:${h.port}/*** failed after 4 attempts: HTTP 500`,
    );
    const h404 = await hook([{ status: 404, body: "hook not found" }]);
    const r404 = await postMattermost(h404.url(), mattermostPayload("x", {}), fast);
    expect(r404).toMatchObject({ ok: false, attempts: 1, status: 404 });
    expect(JSON.stringify(r404)).not.toContain(KEY);
  });

  it("times out a webhook that never answers, and retries it", async () => {
    const h = await hook(["hang"]);
    const result = await postMattermost(h.url(), mattermostPayload("x", {}), {
      timeoutMs: 150,
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
    expect(h.received).toHaveLength(2);
    expect(result.error).toMatch(/no answer within 150 ms$/);
  });

  it("reports a refused connection as a result, not a throw", async () => {
    const h = await hook();
    const url = h.url();
    await h.close();
    hooks.splice(0);
    const result = await postMattermost(url, mattermostPayload("x", {}), fast);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/ECONNREFUSED/);
    expect(result.error).not.toContain(KEY);
  });

  it("accepts https anywhere, http only on loopback; never echoes the key", () => {
    expect(validateWebhookUrl("https://chat.almalinux.org/hooks/abc").hostname).toBe("chat.almalinux.org");
    expect(validateWebhookUrl("http://127.0.0.1:8065/hooks/abc").port).toBe("8065");
    expect(validateWebhookUrl("http://localhost/hooks/abc").hostname).toBe("localhost");
    expect(validateWebhookUrl("http://[::1]:8065/hooks/abc").hostname).toBe("[::1]");
    for (const bad of [
      "http://chat.example.org/hooks/SECRETKEY",
      "ftp://127.0.0.1/hooks/SECRETKEY",
      "not a url SECRETKEY",
    ]) {
      expect(() => validateWebhookUrl(bad)).toThrow(UsageError);
      try {
        validateWebhookUrl(bad);
      } catch (e) {
        expect((e as Error).message).not.toContain("SECRETKEY");
      }
    }
    expect(maskWebhookUrl("https://chat.almalinux.org/hooks/abc?x=1")).toBe("https://chat.almalinux.org/***");
  });

  it("clips text to Mattermost's post limit", () => {
    const p = mattermostPayload("x".repeat(20_000), {});
    expect(p.text.length).toBeLessThanOrEqual(16_383);
  });
});
