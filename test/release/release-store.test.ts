/**
 * Releasing into real stores: an S3-compatible server (s3rver) and the file store. What a failed
 * write leaves behind (nothing new: earlier index documents restored, new objects deleted), a second
 * run's release merging into the index, and verify-release reading straight from s3rver over HTTP.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError, ReleaseError } from "../../src/errors.js";
import { readLegManifest } from "../../src/manifest/read.js";
import { FileStore } from "../../src/publish/file-store.js";
import { openStore } from "../../src/publish/open-store.js";
import type { ObjectStore } from "../../src/publish/types.js";
import { loadAttestationKey } from "../../src/release/attest.js";
import { generateSigningKey, loadSigningKey } from "../../src/release/openpgp.js";
import { releaseLegs } from "../../src/release/release.js";
import { PRODUCTS_KEY } from "../../src/release/simplestreams.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../publish/helpers/files.js";
import {
  getObject,
  type LocalS3,
  listKeys,
  S3RVER_KEY,
  s3Env,
  startS3rver,
} from "../publish/helpers/s3rver.js";
import { type LegSpec, type PublishedLeg, publishLeg } from "./helpers/published-run.js";

const work = tempDir("release-store");
let s3: LocalS3;
const saved = { ...process.env };
beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  s3 = await startS3rver("release-bucket");
});
afterAll(async () => {
  await s3.close();
  process.env = saved;
  work.cleanup();
});

const legs = (stamp: string, release = "9.6"): LegSpec[] => [
  { type: "gencloud", variant: "9", arch: "x86_64", release, timeStamp: stamp },
  { type: "oci", variant: "9", arch: "aarch64", release, timeStamp: stamp },
];

async function keys() {
  const pair = await generateSigningKey("Store test", "store@example.org");
  const att = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    pair,
    attPub: att.publicKey.export({ format: "pem", type: "spki" }).toString(),
    openpgp: await loadSigningKey({ armoredKey: pair.privateKey, keyFrom: "k", passphraseFrom: "p" }),
    attester: loadAttestationKey(att.privateKey.export({ format: "pem", type: "pkcs8" }).toString(), "a"),
  };
}

async function publishAll(store: ObjectStore, label: string, specs: LegSpec[]) {
  const manifestsDir = join(work.dir, label, "manifests");
  const published: PublishedLeg[] = [];
  for (const spec of specs)
    published.push(await publishLeg(store, join(work.dir, label, "build"), manifestsDir, spec));
  return {
    published,
    manifests: await Promise.all(
      published.map(async (p) => ({ path: p.manifestPath, manifest: await readLegManifest(p.manifestPath) })),
    ),
  };
}

/** The store, with put failing for one key (the store's own error after the write path was taken). */
function failingAt(store: ObjectStore, key: string): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "put") {
        return async (request: Parameters<ObjectStore["put"]>[0]) => {
          if (request.key === key) throw new Error("injected failure: connection reset");
          return target.put(request);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function s3Snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of await listKeys(s3)) out.set(key, (await getObject(s3, key))!.toString("base64"));
  return out;
}

describe("release to S3 (s3rver)", () => {
  let store: ObjectStore;
  let k: Awaited<ReturnType<typeof keys>>;
  beforeAll(async () => {
    k = await keys();
    store = await openStore(`s3://${s3.bucket}`, {
      endpointUrl: s3.endpoint,
      forcePathStyle: true,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
  });
  afterAll(() => store.close());

  it("a failure at the first release's last document leaves nothing of the release behind", async () => {
    const run = await publishAll(store, "s3-first-fail", legs("20260220143000"));
    const before = await s3Snapshot();
    const error = await releaseLegs({
      manifests: run.manifests,
      store: failingAt(store, "streams/v1/index.json"),
      openpgp: k.openpgp,
      attester: k.attester,
      generator: "test",
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toMatch(
      /failed at index\.json \(.*injected failure.*\); everything written was rolled back$/,
    );
    expect(await s3Snapshot()).toEqual(before);
  });

  it("releases through the CLI; a second run merges into the index; a failed third release restores it", async () => {
    const home = join(work.dir, "s3-home");
    mkdirSync(home, { recursive: true });
    const first = await publishAll(store, "s3-run1", legs("20260220143000"));
    const env = {
      ...s3Env(home),
      CLOUD_IMAGES_SIGNING_KEY: k.pair.privateKey,
      CLOUD_IMAGES_ATTESTATION_KEY: k.attester.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    };
    const s3Args = ["--store", `s3://${s3.bucket}`, "--endpoint-url", s3.endpoint, "--path-style"];
    const r = await runCli(
      ["release", "--manifests", join(work.dir, "s3-run1", "manifests"), ...s3Args, "--json"],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.folders.map((f: { prefix: string }) => f.prefix).sort()).toEqual([
      "images/9/9.6/gencloud/20260220143000",
      "images/9/9.6/oci/20260220143000",
    ]);
    expect(await listKeys(s3, "streams/")).toEqual(
      ["streams/9.json", PRODUCTS_KEY, "streams/v1/index.json"].sort(),
    );

    // verify-release reads the folder straight from the S3 server over HTTP.
    writeFileSync(join(home, "pub.asc"), k.pair.publicKey);
    writeFileSync(join(home, "att.pem"), k.attPub);
    const folderUrl = `${s3.endpoint}/${s3.bucket}/images/9/9.6/oci/20260220143000/`;
    const v = await runCli([
      "verify-release",
      folderUrl,
      "--key",
      join(home, "pub.asc"),
      "--attestation-key",
      join(home, "att.pem"),
    ]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain("leg:       oci 9 aarch64, release 9.6");

    // A later run: both builds stay in the products file, the stream points at the newer one.
    const second = await publishAll(store, "s3-run2", legs("20260305090000", "9.7"));
    const r2 = await runCli(["release", "--manifests", join(work.dir, "s3-run2", "manifests"), ...s3Args], {
      env,
    });
    expect(r2.code, r2.stderr).toBe(0);
    const products = JSON.parse((await getObject(s3, PRODUCTS_KEY))!.toString());
    expect(Object.keys(products.products["com.almalinux.cloud:gencloud:9:x86_64"].versions)).toEqual([
      "20260220143000",
      "20260305090000",
    ]);
    const stream = JSON.parse((await getObject(s3, "streams/9.json"))!.toString());
    expect(stream.architectures.x86_64.artifacts.gencloud.release).toBe("9.7-20260305090000");
    expect(stream.architectures.x86_64.artifacts.gencloud.formats.qcow2.disk.location).toBe(
      `https://${s3.bucket}.s3-accelerate.dualstack.amazonaws.com/${second.published[0]!.manifest.published!.objects[0]!.key}`,
    );

    // A third run whose release fails at the stream document: the index is what it was.
    const third = await publishAll(store, "s3-run3", legs("20260312090000", "9.7"));
    const before = await s3Snapshot();
    await expect(
      releaseLegs({
        manifests: third.manifests,
        store: failingAt(store, "streams/9.json"),
        openpgp: k.openpgp,
        attester: k.attester,
        generator: "t",
      }),
    ).rejects.toThrow(/failed at 9\.json .*rolled back$/);
    expect(await s3Snapshot()).toEqual(before);
    expect(first.published).toHaveLength(2);
  });
});

/** Every file under `bucket` with its content. */
function fileSnapshot(bucket: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of readdirSync(bucket, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const path = join(d.parentPath, d.name);
    out.set(path.slice(bucket.length + 1), readFileSync(path, "base64"));
  }
  return out;
}

describe("release to the file store", () => {
  it("an interrupt (Ctrl-C, SIGTERM) stops between two writes and rolls back what was written", async () => {
    const bucket = join(work.dir, "file-bucket-interrupted");
    const store = new FileStore(bucket);
    const k = await keys();
    const run = await publishAll(store, "file-run-interrupted", legs("20260220143000"));
    const before = fileSnapshot(bucket);
    const controller = new AbortController();
    let writes = 0;
    const error = await releaseLegs({
      manifests: run.manifests,
      store,
      openpgp: k.openpgp,
      attester: k.attester,
      generator: "t",
      log: (line) => {
        if (line.startsWith("written: ") && ++writes === 2) controller.abort(new InterruptedError("SIGTERM"));
      },
      signal: controller.signal,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(writes).toBe(2);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toMatch(
      /failed at \S+ \(interrupted by SIGTERM\); everything written was rolled back$/,
    );
    expect(fileSnapshot(bucket)).toEqual(before);
  });

  it("a write that fails (a directory where the stream document goes) rolls back; a rerun is idempotent", async () => {
    const bucket = join(work.dir, "file-bucket");
    const store = new FileStore(bucket);
    const k = await keys();
    const run = await publishAll(store, "file-run", legs("20260220143000"));
    const listing = () =>
      readdirSync(bucket, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name).slice(bucket.length + 1))
        .sort();
    mkdirSync(join(bucket, "streams", "9.json"), { recursive: true });
    writeFileSync(join(bucket, "streams", "9.json", "occupied"), "x");
    const before = listing();
    await expect(
      releaseLegs({
        manifests: run.manifests,
        store,
        openpgp: k.openpgp,
        attester: k.attester,
        generator: "t",
      }),
    ).rejects.toThrow(/failed at 9\.json .*everything written was rolled back$/);
    expect(listing()).toEqual(before);

    const { rmSync } = await import("node:fs");
    rmSync(join(bucket, "streams", "9.json"), { recursive: true });
    const ok = await releaseLegs({ manifests: run.manifests, store, openpgp: k.openpgp, generator: "t" });
    expect(ok.written.every((w) => w.status === "uploaded")).toBe(true);
    const checksum = readFileSync(join(bucket, "images/9/9.6/gencloud/20260220143000/CHECKSUM"), "utf8");
    // Without an attester: no bundles, CHECKSUM lists the four published files.
    expect(checksum.split("\n").filter((l) => l && !l.startsWith("#"))).toHaveLength(4);
    const again = await releaseLegs({ manifests: run.manifests, store, generator: "t", index: false });
    expect(again.index).toEqual([]);
    // The same CHECKSUM content (unsigned now) is skipped as identical; no .asc is written.
    expect(again.written.map((w) => [w.key.split("/").pop(), w.status])).toEqual([
      ["CHECKSUM", "skipped"],
      ["CHECKSUM", "skipped"],
    ]);
  });
});
