/**
 * S3 leftovers and concurrent writers, against s3rver on loopback: a publish killed with SIGKILL leaves
 * its multipart upload open (s3rver keeps it on disk); the next publish of that key finds it with
 * ListMultipartUploads and aborts it. Another writer changing the tags, or replacing the object, while a
 * publish tags it is reported, and its tags are not overwritten.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand, PutObjectTaggingCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "../helpers/cli.js";
import { FaultProxy } from "./helpers/fault-proxy.js";
import { bytesFor, MiB, sha256Hex, tempDir, writeBytes } from "./helpers/files.js";
import { getObject, getTags, type LocalS3, s3Env, startS3rver } from "./helpers/s3rver.js";

let s3: LocalS3;
let proxy: FaultProxy;
const work = tempDir("publish-leftovers");
const home = join(work.dir, "home");

beforeAll(async () => {
  s3 = await startS3rver("leftovers");
  proxy = await new FaultProxy(s3.port, () => "pass", s3.uploadsDir).start();
  mkdirSync(home);
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
  work.cleanup();
});

const args = (file: string, prefix: string) => [
  "publish",
  file,
  "--store",
  `s3://${s3.bucket}`,
  "--endpoint-url",
  proxy.endpoint,
  "--path-style",
  "--prefix",
  prefix,
  "--part-size",
  "5",
  "--concurrency",
  "1",
];

const uploadsInProgress = () => (existsSync(s3.uploadsDir) ? readdirSync(s3.uploadsDir) : []);

describe("S3 leftovers", () => {
  it("the multipart upload of a publish killed with SIGKILL is aborted by the next publish of the key", async () => {
    const big = writeBytes(join(work.dir, "big.raw"), bytesFor("killed", 24 * MiB));
    const child = spawn(process.execPath, [CLI, ...args(big, "killed")], {
      env: { ...process.env, ...s3Env(home) },
      stdio: ["ignore", "ignore", "ignore"],
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && proxy.ops("UploadPart").length < 2)
      await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    // The killed run could not abort: its upload stays open in the store.
    const left = uploadsInProgress();
    expect(left).toHaveLength(1);
    expect(readFileSync(join(s3.uploadsDir, left[0]!, "key"), "utf8")).toBe("killed/big.raw");

    const r = await runCli(args(big, "killed"), { env: s3Env(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /cloud-images: warning: aborted an incomplete upload of killed\/big\.raw started \S+Z, left by an interrupted publish/,
    );
    expect(proxy.ops("AbortMultipartUpload").some((o) => o.url.includes(`uploadId=${left[0]}`))).toBe(true);
    expect(uploadsInProgress()).toEqual([]);
    expect(sha256Hex((await getObject(s3, "killed/big.raw"))!)).toBe(sha256Hex(readFileSync(big)));
  }, 180_000);
});

describe("concurrent writers", () => {
  it("tags changed by another writer meanwhile are reported and left as they are", async () => {
    const file = writeBytes(join(work.dir, "tags.qcow2"), bytesFor("tags", 1 * MiB));
    let raced = false;
    proxy.onForwarded = async (op) => {
      if (op !== "PutObjectTagging" || raced) return;
      raced = true;
      await s3.client.send(
        new PutObjectTaggingCommand({
          Bucket: s3.bucket,
          Key: "tags/tags.qcow2",
          Tagging: { TagSet: [{ Key: "public", Value: "no" }] },
        }),
      );
    };
    try {
      const r = await runCli([...args(file, "tags"), "--tag", "public=yes"], { env: s3Env(home) });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        "cloud-images: error: stored but not tagged: tags.qcow2 (tags/tags.qcow2: another writer changed its tags while this publish set them (wanted public=yes, found public=no); not overwritten); nothing else was published",
      );
      expect(await getTags(s3, "tags/tags.qcow2")).toEqual({ public: "no" });
    } finally {
      proxy.onForwarded = undefined;
    }
  });

  it("an object replaced by another writer after the upload is reported", async () => {
    const file = writeBytes(join(work.dir, "swap.qcow2"), bytesFor("swap", 1 * MiB));
    let raced = false;
    proxy.onForwarded = async (op) => {
      if (op !== "PutObject" || raced) return;
      raced = true;
      await s3.client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: "swap/swap.qcow2", Body: bytesFor("other", 1000) }),
      );
    };
    try {
      const r = await runCli([...args(file, "swap"), "--tag", "public=yes"], { env: s3Env(home) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^cloud-images: error: stored but not tagged: swap\.qcow2 \(swap\/swap\.qcow2 was replaced by another writer after this publish uploaded it \(ETag "?[0-9a-f]+"?, ours "?[0-9a-f]+"?\); the tags read back may be theirs\); nothing else was published\n$/,
      );
    } finally {
      proxy.onForwarded = undefined;
    }
  });
});
