/**
 * The loopback HTTP server a NoCloud guest fetches its seed from (as http://10.0.2.2:PORT/ through QEMU's
 * user-mode network) and phones home to. Bound to 127.0.0.1 on a port the kernel picks; it records when
 * the seed was fetched and when the guest phoned home.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeedServerEvents {
  /** The guest asked for its meta-data (cloud-init's network stage found the datasource). */
  onSeedFetched?(): void;
  /** cloud-init's final stage posted to the phone-home URL. */
  onPhoneHome?(body: string): void;
}

export interface SeedServer {
  readonly port: number;
  /** Requests seen, as "METHOD /path". */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

export const PHONE_HOME_PATH = "/phone-home";
const MAX_BODY = 64 * 1024;

export function startSeedServer(
  files: Readonly<Record<string, string>>,
  events: SeedServerEvents = {},
): Promise<SeedServer> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push(`${req.method} ${path}`);
    if (req.method === "POST" && path === PHONE_HOME_PATH) {
      let body = "";
      req.on("data", (c: Buffer) => {
        if (body.length < MAX_BODY) body += c.toString("utf8");
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        events.onPhoneHome?.(body);
      });
      return;
    }
    const name = path.replace(/^\/+/, "");
    const content = req.method === "GET" || req.method === "HEAD" ? files[name] : undefined;
    if (content === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (name === "meta-data") events.onSeedFetched?.();
    res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(content) });
    res.end(req.method === "HEAD" ? undefined : content);
  });
  // A guest that stops answering must not hold the server open when the test ends.
  server.keepAliveTimeout = 2000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
