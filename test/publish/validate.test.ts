/** Prefixes, tags, checksum files, URLs and retry classification; expected values from S3's and coreutils' rules. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { s3Bucket } from "../../src/publish/open-store.js";
import { roleOf } from "../../src/publish/publish.js";
import { parseSha256sum, readSidecarSha256 } from "../../src/publish/sha256sum.js";
import { publicUrl } from "../../src/publish/url.js";
import { parseTagArgs, validatePrefix } from "../../src/publish/validate.js";
import { backoffDelay, isTransient, seededRandom, withRetry } from "../../src/retry.js";
import { tempDir } from "./helpers/files.js";

const work = tempDir("publish-validate");
afterAll(() => work.cleanup());

describe("prefixes", () => {
  it.each([
    ["images/9/9.6/gencloud/20260220143000", "images/9/9.6/gencloud/20260220143000"],
    ["images/kitten/10/azure/20260220143000/", "images/kitten/10/azure/20260220143000"],
    ["", ""],
  ])("accepts %j", (input, expected) => expect(validatePrefix(input)).toBe(expected));

  it.each([
    ["../images", /\.\. segment/],
    ["images/../../etc", /\.\. segment/],
    ["/images/9", /must not start with \//],
    ["images//9", /empty segment/],
    ["images/./9", /\. segment/],
    ["images/9\n", /control characters/],
    ["images\u0000/9", /control characters/],
    ["images\\9", /use \//],
  ])("refuses %j", (input, why) => {
    expect(() => validatePrefix(input)).toThrow(UsageError);
    expect(() => validatePrefix(input)).toThrow(why);
  });
});

describe("tags (S3 rules: ≤10 tags, key ≤128, value ≤256, letters digits space _ . : / = + - @)", () => {
  it("accepts the seed's tag and S3's allowed characters", () => {
    expect(parseTagArgs(["public=yes"])).toEqual({ public: "yes" });
    expect(parseTagArgs(["k=a=b", "empty=", "x=Ünïcode é 1.2:3/4+5-6@7_8"])).toEqual({
      k: "a=b",
      empty: "",
      x: "Ünïcode é 1.2:3/4+5-6@7_8",
    });
    expect(Object.keys(parseTagArgs(Array.from({ length: 10 }, (_, i) => `k${i}=v`)))).toHaveLength(10);
    expect(parseTagArgs([`${"k".repeat(128)}=${"v".repeat(256)}`])).toBeDefined();
  });

  it.each([
    [["public"], /expected KEY=VALUE/],
    [["=yes"], /key is empty/],
    [["a=b!"], /only letters, digits/],
    [["a#=b"], /only letters, digits/],
    [[`${"k".repeat(129)}=v`], /longer than 128/],
    [[`k=${"v".repeat(257)}`], /longer than 256/],
    [["aws:createdBy=me"], /reserved/],
    [["cloud-images-sha256=x"], /reserved/],
    [["a=1", "a=2"], /given twice/],
    [Array.from({ length: 11 }, (_, i) => `k${i}=v`), /too many tags: 11/],
  ])("refuses %j", (args, why) => {
    expect(() => parseTagArgs(args)).toThrow(UsageError);
    expect(() => parseTagArgs(args)).toThrow(why);
  });
});

describe(".sha256sum files", () => {
  it("reads what coreutils sha256sum writes, in text and binary mode", async () => {
    const dir = work.dir;
    writeFileSync(join(dir, "a b.qcow2"), "image bytes");
    const text = execFileSync("sha256sum", ["a b.qcow2"], { cwd: dir, encoding: "utf8" });
    const binary = execFileSync("sha256sum", ["-b", "a b.qcow2"], { cwd: dir, encoding: "utf8" });
    const hex = text.split(" ")[0]!;
    expect(parseSha256sum(text)).toEqual([{ sha256: hex, name: "a b.qcow2" }]);
    expect(parseSha256sum(binary)).toEqual([{ sha256: hex, name: "a b.qcow2" }]);
    writeFileSync(join(dir, "a b.qcow2.sha256sum"), text);
    expect(await readSidecarSha256(join(dir, "a b.qcow2"), "a b.qcow2")).toBe(hex);
    expect(await readSidecarSha256(join(dir, "missing.raw"), "missing.raw")).toBeUndefined();
  });

  it("refuses checksum files that are not in that format or name another file", async () => {
    expect(() => parseSha256sum("xyz  file\n")).toThrow(/not a sha256sum line/);
    writeFileSync(join(work.dir, "other.raw.sha256sum"), `${"a".repeat(64)}  something-else.raw\n`);
    await expect(readSidecarSha256(join(work.dir, "other.raw"), "other.raw")).rejects.toThrow(
      /has no checksum for "other\.raw"/,
    );
  });
});

describe("URLs, buckets and roles", () => {
  it("gives the seed's S3 Transfer Acceleration URLs, or a configured base", () => {
    expect(
      publicUrl(
        "almalinux-cloud",
        "images/9/9.6/azure/20260220143000/AlmaLinux-9-Azure-9.6-20260220.x86_64.raw",
      ),
    ).toBe(
      "https://almalinux-cloud.s3-accelerate.dualstack.amazonaws.com/images/9/9.6/azure/20260220143000/AlmaLinux-9-Azure-9.6-20260220.x86_64.raw",
    );
    expect(publicUrl("b", "p/x y.txt", "https://mirror.example.org/cloud/")).toBe(
      "https://mirror.example.org/cloud/p/x%20y.txt",
    );
  });

  it("checks bucket names", () => {
    expect(s3Bucket("s3://almalinux-cloud")).toBe("almalinux-cloud");
    expect(s3Bucket("s3://almalinux-cloud/")).toBe("almalinux-cloud");
    expect(() => s3Bucket("s3://")).toThrow(/needs a bucket name/);
    expect(() => s3Bucket("s3://bucket/images")).toThrow(/give the bucket only/);
    expect(() => s3Bucket("s3://Bad_Bucket")).toThrow(/invalid bucket name/);
  });

  it("guesses roles from names", () => {
    const n = "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2";
    expect(
      [n, `${n}.sha256sum`, `${n}.txt`, `${n}.manifest.json`, "x.cdx.json", "y.bin"].map(roleOf),
    ).toEqual(["image", "checksum", "packages", "manifest", "sbom", "other"]);
  });
});

describe("retries", () => {
  it("classifies throttling, 5xx and dropped connections as transient, the rest not", () => {
    const sdk = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(isTransient(sdk("SlowDown", 503))).toBe(true);
    expect(isTransient(sdk("InternalError", 500))).toBe(true);
    expect(isTransient(sdk("TooManyRequests", 429))).toBe(true);
    expect(isTransient(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))).toBe(true);
    expect(isTransient(new Error("socket hang up"))).toBe(true);
    expect(isTransient(new Error("outer", { cause: { code: "ECONNRESET" } }))).toBe(true);
    expect(isTransient(sdk("AccessDenied", 403))).toBe(false);
    expect(isTransient(sdk("NoSuchBucket", 404))).toBe(false);
    expect(isTransient(Object.assign(new Error("aborted"), { name: "AbortError" }))).toBe(false);
  });

  it("backs off exponentially with full jitter, capped", () => {
    const policy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, policy))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(0);
    const r = seededRandom(42);
    const again = seededRandom(42);
    expect([r(), r(), r()]).toEqual([again(), again(), again()]);
  });

  it("stops at the attempt budget and on non-transient errors", async () => {
    let calls = 0;
    const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
    await expect(
      withRetry(
        "x",
        async () => {
          calls++;
          throw Object.assign(new Error("slow"), { name: "SlowDown", $metadata: { httpStatusCode: 503 } });
        },
        { policy },
      ),
    ).rejects.toThrow("slow");
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        "x",
        async () => {
          calls++;
          throw Object.assign(new Error("denied"), { $metadata: { httpStatusCode: 403 } });
        },
        { policy },
      ),
    ).rejects.toThrow("denied");
    expect(calls).toBe(1);
  });
});
