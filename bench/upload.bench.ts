/**
 * Uploading a 2 GiB file to the same loopback s3rver with `cloud-images publish` and with Debian's
 * `aws s3 cp` (awscli 2.9), same part size and concurrency, in the same run. Prints the throughput
 * ratio (target >= 1.0x aws), bytes read per upload (target: the file once; our count from /proc rchar,
 * which also includes startup reads) and peak RSS (target < 300 MiB).
 * BENCH_UPLOAD_MIB overrides the file size (default 2048).
 */
import { execFileSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { fmtMiB, fmtSeconds, type Measurement, MiB, measure, report, withRchar } from "./lib.js";

const SIZE = Number(process.env.BENCH_UPLOAD_MIB ?? 2048) * MiB;
const PART_MIB = 32;
const CONCURRENCY = 4;
const CLI = new URL("../bin/cloud-images.js", import.meta.url).pathname;
// The reference: Debian's awscli (apt install awscli), or any `aws` on PATH; BENCH_AWS names another.
const AWS = process.env.BENCH_AWS ?? findOnPath("aws");

const work = AWS ? mkdtempSync(join(tmpdir(), "bench-upload-")) : "";
if (!AWS) {
  console.log(
    "upload bench skipped: no aws CLI on PATH (apt install awscli, or set BENCH_AWS); nothing to compare with",
  );
} else {
  try {
    await main(AWS);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

async function main(AWS: string): Promise<void> {
  const file = join(work, `upload-${randomBytes(4).toString("hex")}.raw`);
  writeRandomFile(file, SIZE);
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: join(work, "s3rver"),
    silent: true,
    configureBuckets: [{ name: "bench" }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(work, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "aws-credentials"),
  };
  // The same part size and concurrency for the reference tool.
  for (const [key, value] of [
    ["default.s3.multipart_chunksize", `${PART_MIB}MB`],
    ["default.s3.max_concurrent_requests", String(CONCURRENCY)],
    ["default.s3.addressing_style", "path"],
  ]) {
    execFileSync(AWS, ["configure", "set", key!, value!], { env: { ...process.env, ...env } });
  }
  console.log(
    `uploading ${fmtMiB(SIZE)} to s3rver on loopback, ${PART_MIB} MiB parts, ${CONCURRENCY} at a time (no .sha256sum: hashed while uploading)`,
  );
  try {
    const aws = await run(file, () =>
      measure(AWS, ["--endpoint-url", endpoint, "s3", "cp", file, "s3://bench/aws/", "--only-show-errors"], {
        env,
      }),
    );
    const ours = await run(file, () =>
      measure(
        process.execPath,
        [
          CLI,
          "publish",
          file,
          "--store",
          "s3://bench",
          "--endpoint-url",
          endpoint,
          "--path-style",
          "--prefix",
          "ours",
          "--part-size",
          String(PART_MIB),
          "--concurrency",
          String(CONCURRENCY),
          "--json",
        ],
        { env },
      ),
    );
    for (const [name, r] of [
      ["aws s3 cp", aws],
      ["cloud-images publish", ours],
    ] as const) {
      if (r.m.exitCode !== 0)
        throw new Error(`${name} failed (${r.m.exitCode}): ${r.m.stderr.slice(0, 500)}`);
    }
    const ourCount = JSON.parse(ours.m.stdout).objects[0].bytesRead as number;
    const ratio = aws.m.wall / ours.m.wall;
    report(
      "upload throughput vs aws s3 cp",
      {
        ours: `${fmtSeconds(ours.m.wall)} (${fmtMiB(SIZE / ours.m.wall)}/s)`,
        aws: `${fmtSeconds(aws.m.wall)} (${fmtMiB(SIZE / aws.m.wall)}/s)`,
        ratio: `${ratio.toFixed(2)}x`,
      },
      ">= 1.0x aws",
      ratio >= 1.0,
    );
    report(
      "bytes read from disk per upload",
      {
        ours: `${(ours.rchar / SIZE).toFixed(3)}x file (rchar ${fmtMiB(ours.rchar)}; own count ${fmtMiB(ourCount)})`,
        aws: `${(aws.rchar / SIZE).toFixed(3)}x file (rchar ${fmtMiB(aws.rchar)})`,
      },
      "the file once",
      ourCount === SIZE && ours.rchar < 1.1 * SIZE,
    );
    report(
      "peak RSS",
      { ours: fmtMiB(ours.m.maxRss), aws: fmtMiB(aws.m.maxRss) },
      "< 300 MiB",
      ours.m.maxRss < 300 * MiB,
    );
  } finally {
    const closing = server.close();
    (server as unknown as { httpServer?: HttpServer }).httpServer?.closeAllConnections();
    await closing;
  }
}

/** Runs one upload with the file's page cache dropped, polling the uploader's /proc/PID/io read count. */
function run(file: string, go: () => Promise<Measurement>): Promise<{ m: Measurement; rchar: number }> {
  execFileSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"]);
  return withRchar(file, go);
}

/** Incompressible bytes, written in 16 MiB chunks (AES-CTR keystream). */
function writeRandomFile(path: string, size: number): void {
  const cipher = createCipheriv("aes-128-ctr", randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(16 * MiB);
  const fd = openSync(path, "w");
  try {
    for (let done = 0; done < size; done += zeros.length) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - done)));
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}
