/**
 * publishFiles against a real S3-compatible server (s3rver on loopback), through a recording proxy.
 * Oracles: the bytes we wrote (checked with coreutils sha256sum), what s3rver holds (read back with a
 * plain SDK client that bypasses our code), and the requests the proxy saw.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PublishError } from "../../src/errors.js";
import { openStore } from "../../src/publish/open-store.js";
import { publishFiles, publishResultOf } from "../../src/publish/publish.js";
import type { ObjectStore } from "../../src/publish/types.js";
import { type Fault, FaultProxy } from "./helpers/fault-proxy.js";
import {
  bytesFor,
  MiB,
  sha256Hex,
  sha256sumOf,
  tempDir,
  writeBytes,
  writeSha256sum,
} from "./helpers/files.js";
import { getObject, getTags, headObject, type LocalS3, S3RVER_KEY, startS3rver } from "./helpers/s3rver.js";

let s3: LocalS3;
const work = tempDir("publish-s3");
const stores: ObjectStore[] = [];
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_KEY;
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  s3 = await startS3rver();
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(async () => {
  await s3.close();
  work.cleanup();
});

async function proxied(
  decide?: (op: string, index: number) => Fault,
): Promise<{ proxy: FaultProxy; store: ObjectStore }> {
  const proxy = await new FaultProxy(s3.port, decide).start();
  proxies.push(proxy);
  const store = await openStore(`s3://${s3.bucket}`, {
    endpointUrl: proxy.endpoint,
    forcePathStyle: true,
    partSizeBytes: 5 * MiB,
    concurrency: 3,
    retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
    socketTimeoutMs: 1500,
  });
  stores.push(store);
  return { proxy, store };
}

/** An image (multipart), its .sha256sum (made by coreutils) and a package list. */
function legFiles(label: string, imageSize = 13 * MiB + 12345) {
  const dir = join(work.dir, label);
  mkdirSync(dir, { recursive: true });
  const name = `AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2`;
  const image = writeBytes(join(dir, name), bytesFor(label, imageSize));
  writeSha256sum(dir, name);
  const packages = join(dir, `${name}.txt`);
  writeFileSync(packages, "acl\nalmalinux-release\nbash\n");
  return { dir, name, image, checksum: `${image}.sha256sum`, packages };
}

describe("publishing to s3rver", () => {
  it("uploads image (multipart), checksum and package list, tags each and reads the tags back", async () => {
    const { proxy, store } = await proxied();
    const leg = legFiles("basic");
    const prefix = "images/9/9.6/gencloud/20260220143000";
    const result = await publishFiles(
      store,
      [{ path: leg.image }, { path: leg.checksum }, { path: leg.packages }],
      {
        prefix,
        tags: { public: "yes" },
      },
    );
    expect(result.ok).toBe(true);
    expect(result.objects.map((o) => [o.name, o.role, o.status])).toEqual([
      [leg.name, "image", "uploaded"],
      [`${leg.name}.sha256sum`, "checksum", "uploaded"],
      [`${leg.name}.txt`, "packages", "uploaded"],
    ]);
    for (const [o, path] of result.objects.map(
      (o, i) => [o, [leg.image, leg.checksum, leg.packages][i]!] as const,
    )) {
      const truth = sha256sumOf(path);
      expect(o.sha256).toBe(truth);
      const stored = await getObject(s3, `${prefix}/${o.name}`);
      expect(stored && sha256Hex(stored)).toBe(truth);
      expect(await getTags(s3, `${prefix}/${o.name}`)).toEqual({ public: "yes" });
      expect(o.url).toBe(`https://${s3.bucket}.s3-accelerate.dualstack.amazonaws.com/${prefix}/${o.name}`);
      // Read from disk once: the .sha256sum existed, so no separate hashing pass.
      expect(o.bytesRead).toBe(o.size);
    }
    // The image's SHA-256 is kept as object metadata, to compare with later.
    expect((await headObject(s3, `${prefix}/${leg.name}`))?.metadata.sha256).toBe(sha256sumOf(leg.image));
    expect(proxy.ops("CreateMultipartUpload")).toHaveLength(1);
    expect(proxy.ops("UploadPart")).toHaveLength(3);
    expect(proxy.ops("CompleteMultipartUpload")).toHaveLength(1);
    expect(proxy.ops("PutObject")).toHaveLength(2);
    expect(proxy.ops("PutObjectTagging")).toHaveLength(3);
    expect(proxy.ops("AbortMultipartUpload")).toHaveLength(0);
  });

  it("skips identical objects on a second run and uploads nothing", async () => {
    const leg = legFiles("idempotent");
    const files = [{ path: leg.image }, { path: leg.checksum }, { path: leg.packages }];
    const first = await proxied();
    await publishFiles(first.store, files, { prefix: "idem", tags: { public: "yes" } });
    const { proxy, store } = await proxied();
    const again = await publishFiles(store, files, { prefix: "idem", tags: { public: "yes" } });
    expect(again.objects.map((o) => o.status)).toEqual(["skipped", "skipped", "skipped"]);
    expect(again.objects.every((o) => o.skipped)).toBe(true);
    expect(proxy.ops("UploadPart").length + proxy.ops("PutObject").length).toBe(0);
    expect(proxy.ops("PutObjectTagging")).toHaveLength(0);
  });

  it("hashes while uploading when there is no .sha256sum, and still recognises the object later", async () => {
    const dir = join(work.dir, "nosum");
    mkdirSync(dir);
    const path = writeBytes(join(dir, "big.raw"), bytesFor("nosum", 11 * MiB + 3));
    const { store } = await proxied();
    const r = await publishFiles(store, [{ path }], { prefix: "nosum", tags: { public: "yes" } });
    expect(r.objects[0]!.sha256).toBe(sha256sumOf(path));
    expect(r.objects[0]!.bytesRead).toBe(11 * MiB + 3);
    // The user's tags are what they asked for; the SHA-256 rides in a reserved tag.
    expect(r.objects[0]!.tags).toEqual({ public: "yes" });
    expect(await getTags(s3, "nosum/big.raw")).toEqual({
      public: "yes",
      "cloud-images-sha256": sha256sumOf(path),
    });
    const second = await proxied();
    const again = await publishFiles(second.store, [{ path }], { prefix: "nosum", tags: { public: "yes" } });
    expect(again.objects[0]!.status).toBe("skipped");
    expect(second.proxy.ops("UploadPart")).toHaveLength(0);
  });

  it("refuses a file that no longer matches its .sha256sum, aborts the upload and leaves no object", async () => {
    const leg = legFiles("mismatch");
    writeFileSync(leg.checksum, `${"0".repeat(64)}  ${leg.name}\n`);
    const { proxy, store } = await proxied();
    const err = await publishFiles(store, [{ path: leg.image }, { path: leg.packages }], {
      prefix: "mismatch",
      tags: { public: "yes" },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/does not match its \.sha256sum/);
    expect(err.message).toContain(`not published: ${leg.name}, ${leg.name}.txt`);
    expect(err.message).toContain("nothing was published");
    expect(await headObject(s3, `mismatch/${leg.name}`)).toBeUndefined();
    expect(await headObject(s3, `mismatch/${leg.name}.txt`)).toBeUndefined();
    const abort = proxy.ops("AbortMultipartUpload");
    expect(abort).toHaveLength(1);
    const uploadId = new URL(proxy.ops("UploadPart")[0]!.url, "http://x").searchParams.get("uploadId");
    expect(new URL(abort[0]!.url, "http://x").searchParams.get("uploadId")).toBe(uploadId);
    expect(proxy.ops("CompleteMultipartUpload")).toHaveLength(0);
    const result = publishResultOf(err)!;
    expect(result.objects.map((o) => o.status)).toEqual(["failed", "not-attempted"]);
  });

  it("refuses a small file that changed after its checksum before sending anything", async () => {
    const dir = join(work.dir, "small-mismatch");
    mkdirSync(dir);
    writeFileSync(join(dir, "list.txt"), "a\nb\n");
    writeSha256sum(dir, "list.txt");
    appendFileSync(join(dir, "list.txt"), "c\n");
    const { proxy, store } = await proxied();
    await expect(publishFiles(store, [{ path: join(dir, "list.txt") }], { prefix: "sm" })).rejects.toThrow(
      /list\.txt does not match its \.sha256sum/,
    );
    expect(proxy.ops("PutObject")).toHaveLength(0);
  });

  it("a file that grows during a multipart upload is not published", async () => {
    const dir = join(work.dir, "grows");
    mkdirSync(dir);
    const path = writeBytes(join(dir, "grow.raw"), bytesFor("grow", 12 * MiB));
    const { proxy, store } = await proxied();
    let appended = false;
    const err = await publishFiles(store, [{ path }], {
      prefix: "grows",
      onProgress: (p) => {
        if (p.phase === "uploading" && p.bytesDone > 0 && !appended) {
          appended = true;
          appendFileSync(path, "more bytes");
        }
      },
    }).catch((e) => e);
    expect(appended).toBe(true);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/grow\.raw changed size while it was being published/);
    expect(await headObject(s3, "grows/grow.raw")).toBeUndefined();
    expect(proxy.ops("AbortMultipartUpload")).toHaveLength(1);
  });

  it("retries throttling and resets, and re-applies tags that did not stick", async () => {
    const leg = legFiles("retry", 6 * MiB);
    let tagPuts = 0;
    let parts = 0;
    const { proxy, store } = await proxied((op) => {
      if (op === "UploadPart" && parts++ === 0) return "slowdown-503";
      if (op === "UploadPart" && parts === 2) return "reset-mid-body";
      // The first tagging call "succeeds" without reaching the server: only the read-back notices.
      if (op === "PutObjectTagging" && tagPuts++ === 0) return "reset-after-response";
      return "pass";
    });
    const r = await publishFiles(store, [{ path: leg.image }], { prefix: "retry", tags: { public: "yes" } });
    expect(r.objects[0]!.status).toBe("uploaded");
    expect(sha256Hex((await getObject(s3, `retry/${leg.name}`))!)).toBe(sha256sumOf(leg.image));
    expect(await getTags(s3, `retry/${leg.name}`)).toEqual({ public: "yes" });
    expect(proxy.ops("UploadPart").length).toBe(4);
    expect(proxy.ops("PutObjectTagging").length).toBeGreaterThanOrEqual(2);
  });

  it("gives up after the retry budget, aborts, and names what was and was not published", async () => {
    const leg = legFiles("giveup");
    const { proxy, store } = await proxied((op) => (op === "UploadPart" ? "error-500" : "pass"));
    const err = await publishFiles(
      store,
      [{ path: leg.packages }, { path: leg.image }, { path: leg.checksum }],
      {
        prefix: "giveup",
        tags: { public: "yes" },
      },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(
      new RegExp(
        `^not published: ${leg.name}, ${leg.name}\\.sha256sum \\(uploading part \\d of 3 of giveup/`,
      ),
    );
    expect(err.message).toMatch(/InternalError.*HTTP 500/);
    expect(err.message).toMatch(new RegExp(`; published: ${leg.name}\\.txt$`));
    expect(proxy.ops("AbortMultipartUpload")).toHaveLength(1);
    expect(await headObject(s3, `giveup/${leg.name}`)).toBeUndefined();
    expect(await headObject(s3, `giveup/${leg.name}.txt`)).toBeDefined();
  });
});
