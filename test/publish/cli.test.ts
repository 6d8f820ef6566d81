/**
 * `cloud-images publish` end to end: the real CLI bundle against s3rver on loopback and against a
 * file:// store; bad input gives one line on stderr, exit 2, and nothing published.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "../helpers/cli.js";
import { FaultProxy } from "./helpers/fault-proxy.js";
import {
  bytesFor,
  MiB,
  sha256Hex,
  sha256sumOf,
  tempDir,
  writeBytes,
  writeSha256sum,
} from "./helpers/files.js";
import { getObject, getTags, type LocalS3, listKeys, s3Env, startS3rver } from "./helpers/s3rver.js";

let s3: LocalS3;
const work = tempDir("publish-cli");
const home = join(work.dir, "home");
const NAME = "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2";
let image: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  s3 = await startS3rver("cli-bucket");
  mkdirSync(home);
  env = s3Env(home);
  const dir = join(work.dir, "out");
  mkdirSync(dir);
  image = writeBytes(join(dir, NAME), bytesFor("cli", 7 * MiB + 1));
  writeSha256sum(dir, NAME);
  writeFileSync(`${image}.txt`, "bash\nkernel\n");
});
afterAll(async () => {
  await s3.close();
  work.cleanup();
});

const s3Args = (prefix: string) => [
  "--store",
  `s3://${s3.bucket}`,
  "--endpoint-url",
  s3.endpoint,
  "--path-style",
  "--prefix",
  prefix,
  "--part-size",
  "5",
];

/** One line on stderr, nothing else. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("publish to S3", () => {
  it("uploads, tags, prints a line per object and the download URLs", async () => {
    const prefix = "images/9/9.6/gencloud/20260220143000";
    const files = [image, `${image}.sha256sum`, `${image}.txt`];
    const r = await runCli(["publish", ...files, ...s3Args(prefix), "--tag", "public=yes"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const base = `https://${s3.bucket}.s3-accelerate.dualstack.amazonaws.com/${prefix}`;
    expect(r.stdout).toBe(
      [
        `uploaded: ${prefix}/${NAME} (7.0 MiB)`,
        `uploaded: ${prefix}/${NAME}.sha256sum (${statSync(`${image}.sha256sum`).size} B)`,
        `uploaded: ${prefix}/${NAME}.txt (12 B)`,
        "",
        "Download URLs:",
        `  ${NAME}            ${base}/${NAME}`,
        `  ${NAME}.sha256sum  ${base}/${NAME}.sha256sum`,
        `  ${NAME}.txt        ${base}/${NAME}.txt`,
        "",
      ].join("\n"),
    );
    for (const f of files) {
      const key = `${prefix}/${f.split("/").pop()}`;
      expect(sha256Hex((await getObject(s3, key))!)).toBe(sha256sumOf(f));
      expect(await getTags(s3, key)).toEqual({ public: "yes" });
    }
    const again = await runCli(["publish", ...files, ...s3Args(prefix), "--tag", "public=yes", "--json"], {
      env,
    });
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json.ok).toBe(true);
    expect(json.objects.map((o: { status: string }) => o.status)).toEqual(["skipped", "skipped", "skipped"]);
    expect(json.objects[0]).toMatchObject({
      role: "image",
      name: NAME,
      key: `${prefix}/${NAME}`,
      size: 7 * MiB + 1,
      sha256: sha256sumOf(image),
      url: `${base}/${NAME}`,
      skipped: true,
      tags: { public: "yes" },
    });
  });

  it("takes the endpoint from AWS_ENDPOINT_URL_S3 when --endpoint-url is not given", async () => {
    const r = await runCli(
      ["publish", `${image}.txt`, "--store", `s3://${s3.bucket}`, "--prefix", "from-env", "--json"],
      { env: { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await getObject(s3, `from-env/${NAME}.txt`)).toEqual(Buffer.from("bash\nkernel\n"));
  });

  it("uses a configured public base URL", async () => {
    const r = await runCli(
      [
        "publish",
        `${image}.txt`,
        ...s3Args("base"),
        "--public-base-url",
        "https://repo.example.org/cloud/",
        "--json",
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).objects[0].url).toBe(`https://repo.example.org/cloud/base/${NAME}.txt`);
  });

  it("missing credentials: one line naming what to set, exit 2, nothing published", async () => {
    const r = await runCli(["publish", image, ...s3Args("nocreds")], {
      env: { ...env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(
      /^cloud-images: error: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE .*AWS_WEB_IDENTITY_TOKEN_FILE/,
    );
    expect(await listKeys(s3, "nocreds")).toEqual([]);
  });

  it("wrong credentials fail without ever printing the secret", async () => {
    const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY-DO-NOT-PRINT";
    // s3rver knows one account; an unknown key id is refused (it does not check signatures strictly).
    const r = await runCli(["publish", image, ...s3Args("badcreds"), "--retries", "1", "--json"], {
      env: { ...env, AWS_ACCESS_KEY_ID: "AKIAUNKNOWNKEY", AWS_SECRET_ACCESS_KEY: secret },
    });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^cloud-images: error: not published: .*access denied \(HTTP 403\)/);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(await listKeys(s3, "badcreds/")).toEqual([]);
    expect(JSON.parse(r.stdout).objects[0]).toMatchObject({ status: "failed", name: NAME });
  });

  it("an endpoint that refuses connections: one line, exit 1", async () => {
    const port = await closedPort();
    const r = await runCli(
      [
        "publish",
        image,
        "--store",
        "s3://cli-bucket",
        "--endpoint-url",
        `http://127.0.0.1:${port}`,
        "--path-style",
        "--prefix",
        "p",
        "--retries",
        "2",
      ],
      { env },
    );
    expect(r.code).toBe(1);
    expect(
      oneLine(
        r.stderr
          .split("\n")
          .filter((l) => !l.includes("warning:"))
          .join("\n"),
      ),
    ).toBe(
      `cloud-images: error: cannot reach s3://cli-bucket at http://127.0.0.1:${port}: connection failed (ECONNREFUSED)`,
    );
  });

  it.each([
    [["--store", "s3://"], /s3:\/\/ store needs a bucket name/],
    [["--store", "s3://no-such-bucket"], /bucket no-such-bucket does not exist/],
    [["--prefix", "../escape"], /invalid prefix "\.\.\/escape": it has a \.\. segment/],
    [["--prefix", "/abs/path"], /must not start with \//],
    [["--prefix", "a//b"], /empty segment/],
    [["--prefix", "a/b\u0007"], /control characters/],
    [["--tag", "public"], /expected KEY=VALUE/],
    [["--tag", "pub lic=yes!"], /only letters, digits/],
    [["--tag", "aws:x=1"], /reserved/],
    [["--part-size", "4"], /invalid --part-size "4" \(valid: 5 to 5120\)/],
    [["--concurrency", "0"], /invalid --concurrency/],
    [["--endpoint-url", "ftp://x"], /invalid endpoint URL "ftp:\/\/x": use http:\/\/ or https:\/\//],
  ])("bad input %j: one line, exit 2, nothing published", async (extra, why) => {
    const args = ["publish", image, `${image}.txt`, ...s3Args("badinput")];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i]!);
      if (at >= 0) args.splice(at, 2, extra[i]!, extra[i + 1]!);
      else args.push(extra[i]!, extra[i + 1]!);
    }
    const r = await runCli(args, { env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(why);
    expect(r.stdout).toBe("");
    expect(await listKeys(s3, "badinput/")).toEqual([]);
  });

  it("a missing file is bad input found before anything is uploaded", async () => {
    const r = await runCli(["publish", `${image}.txt`, join(work.dir, "nope.raw"), ...s3Args("missing")], {
      env,
    });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot open .*nope\.raw: no such file/);
    expect(await listKeys(s3, "missing")).toEqual([]);
  });
});

describe("publish to a file:// store", () => {
  it("resolves a relative store against the cwd and is idempotent", async () => {
    const cwd = join(work.dir, "cwd");
    mkdirSync(cwd);
    const args = [
      "publish",
      image,
      `${image}.sha256sum`,
      "--store",
      "file://./dist/bucket",
      "--prefix",
      "images/x",
    ];
    const r = await runCli(args, { cwd });
    expect(r.code).toBe(0);
    const stored = join(cwd, "dist", "bucket", "images", "x", NAME);
    expect(sha256sumOf(stored)).toBe(sha256sumOf(image));
    expect(r.stdout).toContain(`uploaded: images/x/${NAME} (7.0 MiB)`);
    expect(r.stdout).toContain(`file://${stored}`);
    const again = await runCli([...args, "--tag", "public=yes"], { cwd });
    expect(again.stdout).toContain(`skipped (identical object exists): images/x/${NAME} (7.0 MiB)`);
    expect(JSON.parse(readFileSync(`${stored}.tags.json`, "utf8"))).toEqual({ public: "yes" });
  });

  it("a publish killed mid-write leaves no object under the final key; the next run completes", async () => {
    const dir = join(work.dir, "kill");
    mkdirSync(dir);
    const big = join(dir, "big.raw");
    writeBytes(big, bytesFor("kill", 256 * MiB));
    const target = join(dir, "bucket", "k");
    const child = spawn(
      process.execPath,
      [CLI, "publish", big, "--store", `file://${join(dir, "bucket")}`, "--prefix", "k"],
      {
        stdio: "ignore",
      },
    );
    // Wait for the temp file to start filling, then kill the process outright.
    const deadline = Date.now() + 20_000;
    let partial: string | undefined;
    while (Date.now() < deadline && !partial) {
      await new Promise((r) => setTimeout(r, 10));
      partial = existsSync(target)
        ? readdirSync(target).find((f) => f.endsWith(".partial") && statSync(join(target, f)).size > 0)
        : undefined;
    }
    expect(partial).toBeDefined();
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect(existsSync(join(target, "big.raw"))).toBe(false);
    const r = await runCli(["publish", big, "--store", `file://${join(dir, "bucket")}`, "--prefix", "k"]);
    expect(r.code).toBe(0);
    expect(sha256sumOf(join(target, "big.raw"))).toBe(sha256sumOf(big));
    // The dead process's temp file was cleaned up.
    expect(readdirSync(target).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });
});

describe("Ctrl-C and SIGTERM", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s aborts a multipart upload in flight: the proxy sees AbortMultipartUpload, nothing under the key, exit %i",
    async (signal, exitCode) => {
      const proxy = await new FaultProxy(s3.port).start();
      try {
        const dir = join(work.dir, signal);
        mkdirSync(dir);
        const big = writeBytes(join(dir, "big.raw"), bytesFor("sigint", 64 * MiB));
        const child = spawn(
          process.execPath,
          [
            CLI,
            "publish",
            big,
            "--store",
            `s3://${s3.bucket}`,
            "--endpoint-url",
            proxy.endpoint,
            "--path-style",
            "--prefix",
            signal,
            "--part-size",
            "5",
            "--concurrency",
            "1",
          ],
          { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && proxy.ops("UploadPart").length < 2)
          await new Promise((r) => setTimeout(r, 10));
        child.kill(signal);
        const code = await new Promise((r) => child.on("close", r));
        expect(code).toBe(exitCode);
        expect(stderr.trim()).toBe(
          `cloud-images: interrupted by ${signal}: not published: big.raw (interrupted); nothing was published`,
        );
        expect(proxy.ops("AbortMultipartUpload")).toHaveLength(1);
        expect(proxy.ops("CompleteMultipartUpload")).toHaveLength(0);
        expect(await listKeys(s3, `${signal}/`)).toEqual([]);
      } finally {
        await proxy.close();
      }
    },
  );
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
