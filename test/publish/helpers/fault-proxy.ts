/**
 * An HTTP proxy between the S3 client and s3rver that injects faults: connection resets in the middle
 * of a request body, 500 InternalError, 503 SlowDown, stalls, and resets after the server already did
 * the work (the client never hears back). It also answers AbortMultipartUpload itself, which s3rver
 * does not implement, and records every request so tests can see the abort was sent. Given s3rver's
 * uploads directory, it serves ListMultipartUploads and AbortMultipartUpload from s3rver's own record
 * of the uploads in progress (a directory per upload holding its key), so leftovers are real.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";

export type Fault =
  | "pass"
  | "reset-mid-body"
  | "error-500"
  | "slowdown-503"
  | "stall"
  | "reset-after-response";

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  /** S3 operation guessed from method and query. */
  readonly op: string;
  readonly fault: Fault;
}

export function s3Operation(method: string, url: string): string {
  const q = new URL(url, "http://x").searchParams;
  if (method === "POST" && q.has("uploads")) return "CreateMultipartUpload";
  if (method === "POST" && q.has("uploadId")) return "CompleteMultipartUpload";
  if (method === "PUT" && q.has("uploadId")) return "UploadPart";
  if (method === "DELETE" && q.has("uploadId")) return "AbortMultipartUpload";
  if (method === "GET" && q.has("uploads")) return "ListMultipartUploads";
  if (method === "PUT" && q.has("tagging")) return "PutObjectTagging";
  if (method === "GET" && q.has("tagging")) return "GetObjectTagging";
  if (method === "PUT") return "PutObject";
  if (method === "HEAD")
    return new URL(url, "http://x").pathname.split("/").filter(Boolean).length > 1
      ? "HeadObject"
      : "HeadBucket";
  return `${method}`;
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`;

export class FaultProxy {
  readonly log: ProxiedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    /** Chooses the fault for each request (AbortMultipartUpload is never faulted). */
    private readonly decide: (op: string, index: number) => Fault = () => "pass",
    /** s3rver's `<dir>/<bucket>/._S3rver_uploads`: serve ListMultipartUploads and abort for real. */
    private readonly uploadsDir?: string,
  ) {}

  /** Runs after s3rver answered a request and before the client hears it (a concurrent writer's move). */
  onForwarded?: (op: string, url: string) => Promise<void>;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  ops(op: string): ProxiedRequest[] {
    return this.log.filter((r) => r.op === op);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const op = s3Operation(method, url);
    const fault = op === "AbortMultipartUpload" ? "pass" : this.decide(op, this.log.length);
    this.log.push({ method, url, op, fault });
    if (op === "AbortMultipartUpload") {
      req.resume();
      req.on("end", () => {
        if (!this.uploadsDir) return res.writeHead(204).end();
        const id = new URL(url, "http://x").searchParams.get("uploadId") ?? "";
        const dir = `${this.uploadsDir}/${id}`;
        if (!/^[0-9a-f]+$/.test(id) || !this.exists(dir)) {
          const body = xmlError("NoSuchUpload", "The specified upload does not exist.");
          return res.writeHead(404, { "content-type": "application/xml" }).end(body);
        }
        rmSync(dir, { recursive: true, force: true });
        res.writeHead(204).end();
      });
      return;
    }
    if (op === "ListMultipartUploads" && this.uploadsDir) {
      req.resume();
      req.on("end", () => this.listUploads(url, res));
      return;
    }
    const length = Number(req.headers["content-length"] ?? 0);
    switch (fault) {
      case "error-500":
      case "slowdown-503": {
        req.resume();
        req.on("end", () => {
          const [status, body] =
            fault === "error-500"
              ? [500, xmlError("InternalError", "We encountered an internal error. Please try again.")]
              : [503, xmlError("SlowDown", "Please reduce your request rate.")];
          res.writeHead(status, {
            "content-type": "application/xml",
            "content-length": Buffer.byteLength(body),
          });
          res.end(body);
        });
        return;
      }
      case "reset-mid-body": {
        // Nothing reaches the server: the client sees its connection reset part-way through the body.
        let seen = 0;
        if (length === 0) {
          req.socket.destroy();
          return;
        }
        req.on("data", (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= length / 2) req.socket.destroy();
        });
        return;
      }
      case "stall": {
        // Take half the body, then stop reading and never answer.
        let seen = 0;
        req.on("data", (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= length / 2) req.pause();
        });
        return;
      }
      default:
        this.forward(req, res, fault === "reset-after-response");
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse, resetAfter: boolean): void {
    const headers = { ...req.headers };
    delete headers.expect;
    const upstream = httpRequest(
      { host: "127.0.0.1", port: this.upstreamPort, method: req.method, path: req.url, headers },
      (up) => {
        if (resetAfter) {
          // The server did the work; the client never learns it.
          up.resume();
          up.on("end", () => req.socket.destroy());
          return;
        }
        const answer = () => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        };
        const hook = this.onForwarded;
        if (!hook) return answer();
        up.pause();
        hook(s3Operation(req.method ?? "GET", req.url ?? "/"), req.url ?? "/").then(answer, answer);
      },
    );
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  }

  private exists(path: string): boolean {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  }

  /** ListMultipartUploadsResult from s3rver's uploads directory (no paging: tests have few). */
  private listUploads(url: string, res: ServerResponse): void {
    const prefix = new URL(url, "http://x").searchParams.get("prefix") ?? "";
    const bucket = new URL(url, "http://x").pathname.split("/").filter(Boolean)[0] ?? "";
    const uploads = (this.exists(this.uploadsDir!) ? readdirSync(this.uploadsDir!) : [])
      .map((id) => {
        const dir = `${this.uploadsDir}/${id}`;
        // The key file is written once, when the upload starts (the directory changes with every part).
        const initiated = statSync(`${dir}/key`).mtime.toISOString();
        return { id, key: readFileSync(`${dir}/key`, "utf8"), initiated };
      })
      .filter((u) => u.key.startsWith(prefix));
    const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
      uploads
        .map(
          (u) =>
            `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
        )
        .join("") +
      "</ListMultipartUploadsResult>";
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
