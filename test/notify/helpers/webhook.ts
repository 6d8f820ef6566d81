/** A local HTTP server standing in for a Mattermost incoming webhook: records requests, answers from a script. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One answer per request, in order; the last one repeats. `hang` never answers. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export class FakeWebhook {
  readonly received: Received[] = [];
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly answers: Answer[] = [{ status: 200, body: "ok" }]) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        this.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
        const answer = this.answers[Math.min(this.received.length - 1, this.answers.length - 1)]!;
        if (answer === "hang") return;
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.body ?? "");
      });
    });
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** The secret-bearing hook URL, as Mattermost issues them. */
  url(key = "x1y2z3secretkey0123456789"): string {
    return `http://127.0.0.1:${this.port}/hooks/${key}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
