/**
 * The release lookup against a local HTTP server serving real RPMs built here, in every way a mirror can
 * behave: honouring Range, ignoring it, redirecting, demanding credentials, 404/500, HTML, a truncated
 * file, a stall, a closed port. The oracle is the seed's own command, `rpm -qp --qf '%{VERSION}' URL`.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MirrorError, UsageError } from "../../src/errors.js";
import { lookupRelease } from "../../src/pipeline/release-lookup.js";
import { INITIAL_RANGE } from "../../src/rpm/remote.js";
import { runCli } from "../helpers/cli.js";
import { buildRpms, rpmQueryPackage } from "../helpers/rpmbuild.js";

type Mode =
  | "range"
  | "ignore-range"
  | "redirect"
  | "auth"
  | "404"
  | "500"
  | "html"
  | "truncated"
  | "stall"
  | "wrong-range";

interface Served {
  /** Files by URL path (the mirror's base is /<mode>/). */
  files: Map<string, Buffer>;
  requests: { mode: string; path: string; range: string | undefined }[];
  /** Bytes of body written per request when the client went away (ignore-range). */
  written: number[];
}

const served: Served = { files: new Map(), requests: [], written: [] };
let server: http.Server;
let base: string;
const stalled: http.ServerResponse[] = [];

function startServer(): Promise<void> {
  server = http.createServer((req, res) => {
    const m = /^\/([^/]+)(\/.*)$/.exec(req.url ?? "");
    const mode = (m?.[1] ?? "") as Mode;
    const path = m?.[2] ?? "";
    served.requests.push({ mode, path, range: req.headers.range });
    const file = served.files.get(path);
    if (mode === "stall") {
      stalled.push(res);
      return;
    }
    if (mode === "404" || !file) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    if (mode === "500") {
      res.writeHead(500).end("boom");
      return;
    }
    if (mode === "html") {
      res
        .writeHead(200, { "Content-Type": "text/html" })
        .end("<!DOCTYPE html><html><body>Mirror maintenance</body></html>");
      return;
    }
    if (mode === "redirect") {
      res.writeHead(302, { Location: `/range${path}` }).end();
      return;
    }
    if (mode === "auth") {
      const expected = `Basic ${Buffer.from("mirror-user:s3cret-Pa55").toString("base64")}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="m"' }).end();
        return;
      }
    }
    const body = mode === "truncated" ? file.subarray(0, 20_000) : file;
    if (mode === "ignore-range") {
      void sendSlowly(res, body);
      return;
    }
    const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (!r) {
      res.writeHead(200, { "Content-Length": body.length }).end(body);
      return;
    }
    const start = Number(r[1]);
    const end = Math.min(r[2] ? Number(r[2]) : body.length - 1, body.length - 1);
    if (start >= body.length) {
      res.writeHead(416, { "Content-Range": `bytes */${body.length}` }).end();
      return;
    }
    const shift = mode === "wrong-range" ? 1 : 0;
    res
      .writeHead(206, {
        "Content-Range": `bytes ${start + shift}-${end}/${body.length}`,
        "Content-Length": end - start + 1,
      })
      .end(body.subarray(start, end + 1));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

/** A server that ignores Range: the whole body in 64 KiB chunks, paced, noting how much went out. */
async function sendSlowly(res: http.ServerResponse, body: Buffer): Promise<void> {
  res.writeHead(200, { "Content-Length": body.length });
  let sent = 0;
  let closed = false;
  res.on("close", () => {
    closed = true;
  });
  while (sent < body.length && !closed) {
    const chunk = body.subarray(sent, sent + 65536);
    sent += chunk.length;
    if (!res.write(chunk)) await new Promise((r) => res.once("drain", r).once("close", r));
    await new Promise((r) => setTimeout(r, 5));
  }
  served.written.push(sent);
  res.end();
}

let big: Buffer;

beforeAll(async () => {
  // The release package as the mirror names it, with a header larger than the first range.
  const [bigRpm] = buildRpms({
    target: "x86_64",
    vendor: "AlmaLinux",
    packages: [
      {
        name: "almalinux-release",
        version: "9.6",
        release: "1.el9",
        manyFiles: 2500,
        changelogEntries: 200,
        randomFileBytes: 4 * 1024 * 1024,
      },
    ],
  });
  const [v2] = buildRpms({
    target: "x86_64_v2",
    packages: [{ name: "almalinux-release", version: "10.1", release: "1.el10" }],
  });
  const [el8] = buildRpms({
    target: "aarch64",
    packages: [{ name: "almalinux-release", version: "8.10", release: "1.el8" }],
  });
  const [other] = buildRpms({
    target: "x86_64",
    packages: [{ name: "bash", version: "9.6", release: "1.el9" }],
  });
  big = readFileSync(bigRpm!);
  served.files.set("/almalinux/almalinux-release-latest-9.x86_64.rpm", big);
  served.files.set("/almalinux/almalinux-release-latest-10.x86_64_v2.rpm", readFileSync(v2!));
  served.files.set("/almalinux/almalinux-release-latest-8.aarch64.rpm", readFileSync(el8!));
  served.files.set("/wrongname/almalinux-release-latest-9.x86_64.rpm", readFileSync(other!));
  await startServer();
}, 600_000);

afterAll(async () => {
  for (const res of stalled) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const mirror = (mode: Mode, path = "/almalinux") => `${base}/${mode}${path}`;

describe("release lookup", () => {
  it("reads only the header of a package whose header is larger than the first range", async () => {
    served.requests.length = 0;
    const info = await lookupRelease({ version: "9", arch: "x86_64", mirror: mirror("range") });
    // The seed's command on the same URL is the oracle.
    const seed = await rpmQueryPackage(
      `${mirror("range")}/almalinux-release-latest-9.x86_64.rpm`,
      "%{VERSION}",
    );
    expect(info.release).toBe(seed);
    expect(info.release).toBe("9.6");
    expect(info.package).toBe("almalinux-release-9.6-1.el9.x86_64");
    const ours = served.requests.filter((r) => r.mode === "range" && r.range);
    expect(ours.length).toBe(info.requests);
    expect(ours.length).toBeGreaterThanOrEqual(2);
    expect(ours[0]!.range).toBe(`bytes=0-${INITIAL_RANGE - 1}`);
    expect(info.bytesFetched).toBeGreaterThan(INITIAL_RANGE);
    expect(info.bytesFetched).toBeLessThan(big.length - 4 * 1024 * 1024);
  });

  it("works with a tiny first range (several rounds)", async () => {
    const info = await lookupRelease({
      version: "9",
      arch: "x86_64",
      mirror: mirror("range"),
      initialRange: 100,
    });
    expect(info.release).toBe("9.6");
    expect(info.requests).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ["10", "x86_64_v2", "10.1"],
    ["8", "aarch64", "8.10"],
  ])("version %s on %s", async (version, arch, expected) => {
    const url = `${mirror("range")}/almalinux-release-latest-${version}.${arch}.rpm`;
    expect(await rpmQueryPackage(url, "%{VERSION}")).toBe(expected);
    const info = await lookupRelease({ version, arch, mirror: `${mirror("range")}/` });
    expect(info.release).toBe(expected);
    expect(info.requests).toBe(1);
  });

  it("stops reading a server that ignores Range once the header is complete", async () => {
    served.written.length = 0;
    const info = await lookupRelease({ version: "9", arch: "x86_64", mirror: mirror("ignore-range") });
    expect(info.release).toBe("9.6");
    expect(info.requests).toBe(1);
    await expect.poll(() => served.written.length).toBe(1);
    expect(served.written[0]!).toBeLessThan(big.length);
  });

  it("follows redirects", async () => {
    expect((await lookupRelease({ version: "9", arch: "x86_64", mirror: mirror("redirect") })).release).toBe(
      "9.6",
    );
  });

  it("sends credentials from the mirror URL, and never shows them", async () => {
    const withAuth = `http://mirror-user:s3cret-Pa55@${base.slice("http://".length)}/auth/almalinux`;
    const info = await lookupRelease({ version: "9", arch: "x86_64", mirror: withAuth });
    expect(info.release).toBe("9.6");
    expect(info.url).not.toContain("s3cret");
    expect(info.url).not.toContain("mirror-user");
    const bad = withAuth.replace("s3cret-Pa55", "wrong-s3cret");
    const err = await lookupRelease({ version: "9", arch: "x86_64", mirror: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MirrorError);
    expect((err as Error).message).toContain("HTTP 401");
    expect((err as Error).message).not.toContain("s3cret");
  });

  it("Kitten is always 10, without touching the network", async () => {
    served.requests.length = 0;
    const info = await lookupRelease({ version: "10-kitten", arch: "x86_64_v2", mirror: mirror("404") });
    expect(info).toEqual({ release: "10", url: null, package: null, bytesFetched: 0, requests: 0 });
    expect(served.requests).toEqual([]);
  });

  it.each([
    ["404", /HTTP 404/],
    ["500", /HTTP 500/],
    ["html", /not a usable RPM package: the body looks like HTML/],
    ["truncated", /ends after 20000 bytes/],
    ["wrong-range", /different range/],
  ] as [Mode, RegExp][])("%s → MirrorError", async (mode, message) => {
    const err = await lookupRelease({ version: "9", arch: "x86_64", mirror: mirror(mode) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MirrorError);
    expect((err as Error).message).toMatch(message);
  });

  it("a package that is not almalinux-release → MirrorError", async () => {
    const err = await lookupRelease({
      version: "9",
      arch: "x86_64",
      mirror: mirror("range", "/wrongname"),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MirrorError);
    expect((err as Error).message).toContain('holds package "bash", not almalinux-release');
  });

  it("a stalled server → MirrorError after the timeout", async () => {
    const t0 = Date.now();
    const err = await lookupRelease({
      version: "9",
      arch: "x86_64",
      mirror: mirror("stall"),
      timeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MirrorError);
    expect((err as Error).message).toMatch(/no complete answer within 0.5 s/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("a closed port → MirrorError", async () => {
    const port = await closedPort();
    const err = await lookupRelease({
      version: "9",
      arch: "x86_64",
      mirror: `http://127.0.0.1:${port}/x`,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MirrorError);
    expect((err as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it.each([
    ["11", "x86_64", /unknown version "11" \(valid: 10-kitten, 10, 9, 8\)/],
    ["9", "x86_64_v2", /unknown arch "x86_64_v2" for version 9 \(valid: x86_64, aarch64\)/],
    ["10", "ppc64le", /\(valid: x86_64, aarch64, x86_64_v2\)/],
  ])("version %s arch %s → UsageError", async (version, arch, message) => {
    const err = await lookupRelease({ version, arch, mirror: mirror("range") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it("a mirror that is not an http(s) URL → MirrorError", async () => {
    for (const m of ["ftp://example.invalid/x", "not a url", "file:///etc"]) {
      const err = await lookupRelease({ version: "9", arch: "x86_64", mirror: m }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MirrorError);
    }
  });
});

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("cloud-images release", () => {
  it("prints the release", async () => {
    const r = await runCli(["release", "--version", "9", "--arch", "x86_64", "--mirror", mirror("range")]);
    expect(r).toMatchObject({ code: 0, stdout: "9.6\n", stderr: "" });
  });

  it("takes the mirror from CLOUD_IMAGES_MIRROR when --mirror is not given", async () => {
    const r = await runCli(["release", "--version", "9", "--arch", "x86_64"], {
      env: { CLOUD_IMAGES_MIRROR: mirror("range") },
    });
    expect(r).toMatchObject({ code: 0, stdout: "9.6\n", stderr: "" });
    const port = await closedPort();
    const given = await runCli(
      ["release", "--version", "9", "--arch", "x86_64", "--mirror", mirror("range")],
      {
        env: { CLOUD_IMAGES_MIRROR: `http://127.0.0.1:${port}` },
      },
    );
    expect(given.stdout).toBe("9.6\n");
  });

  it("--json", async () => {
    const r = await runCli([
      "release",
      "--version",
      "10",
      "--arch",
      "x86_64_v2",
      "--mirror",
      mirror("range"),
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      release: "10.1",
      url: `${mirror("range")}/almalinux-release-latest-10.x86_64_v2.rpm`,
      package: "almalinux-release-10.1-1.el10.x86_64_v2",
      requests: 1,
    });
  });

  it("Kitten prints 10 even with an unreachable mirror", async () => {
    const port = await closedPort();
    const r = await runCli([
      "release",
      "--version",
      "10-kitten",
      "--arch",
      "aarch64",
      "--mirror",
      `http://127.0.0.1:${port}`,
    ]);
    expect(r).toMatchObject({ code: 0, stdout: "10\n" });
  });

  it.each([
    [["--mirror", "404"], /HTTP 404/],
    [["--mirror", "html"], /HTML/],
    [["--mirror", "stall", "--timeout", "1"], /no complete answer within 1 s/],
    [["--mirror", "closed"], /ECONNREFUSED/],
    [["--mirror", "range", "--version", "7"], /unknown version "7"/],
    [["--mirror", "range", "--arch", "s390x"], /unknown arch "s390x"/],
    [["--mirror", "range", "--timeout", "soon"], /invalid --timeout "soon"/],
  ])("bad input %j: exit 2, one line, no stack, no secrets", async (args, message) => {
    const port = await closedPort();
    const opts = Object.fromEntries([
      ["--version", "9"],
      ["--arch", "x86_64"],
      ...(args as string[]).flatMap((a, i, all) => (i % 2 === 0 ? [[a, all[i + 1]!]] : [])),
    ]) as Record<string, string>;
    const m = opts["--mirror"]!;
    const host = base.slice("http://".length);
    opts["--mirror"] =
      m === "closed"
        ? `http://user:s3cret@127.0.0.1:${port}/almalinux`
        : `http://user:s3cret@${host}/${m}/almalinux`;
    const r = await runCli(["release", ...Object.entries(opts).flat()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^cloud-images: error: /);
    expect(r.stderr).not.toContain("s3cret");
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
