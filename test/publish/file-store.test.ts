/**
 * The file:// store: same key layout as the bucket, tags and hash in sidecars, atomic writes.
 * Oracles: the bytes written (coreutils sha256sum), the directory listing, and the sidecars' JSON.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PublishError, UsageError } from "../../src/errors.js";
import { FileStore } from "../../src/publish/file-store.js";
import { fileStoreRoot, openStore } from "../../src/publish/open-store.js";
import { publishFiles } from "../../src/publish/publish.js";
import { bytesFor, MiB, sha256sumOf, tempDir, writeBytes, writeSha256sum } from "./helpers/files.js";

const work = tempDir("publish-file");
afterAll(() => work.cleanup());

function leg(label: string, size = 3 * MiB + 7) {
  const dir = join(work.dir, label, "out");
  mkdirSync(dir, { recursive: true });
  const name = "AlmaLinux-10-OCI-10.1-20260220.x86_64.qcow2";
  const image = writeBytes(join(dir, name), bytesFor(label, size));
  writeSha256sum(dir, name);
  writeFileSync(join(dir, `${name}.txt`), "bash\ncloud-init\n");
  return { name, files: [image, `${image}.sha256sum`, `${image}.txt`].map((path) => ({ path })) };
}

/** Everything under a directory, relative, sorted (so stray temp files would show). */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
    .sort();
}

describe("file:// store", () => {
  it("lays objects out like the bucket, with tag and hash sidecars", async () => {
    const { name, files } = leg("layout");
    const root = join(work.dir, "layout", "bucket");
    const store = new FileStore(root);
    const prefix = "images/10/10.1/oci/20260220143000";
    const result = await publishFiles(store, files, { prefix, tags: { public: "yes" } });
    expect(result.kind).toBe("file");
    expect(listing(root)).toEqual(
      [name, `${name}.sha256sum`, `${name}.txt`]
        .flatMap((n) => [n, `${n}.meta.json`, `${n}.tags.json`])
        .map((n) => `${prefix}/${n}`)
        .sort(),
    );
    for (const [i, o] of result.objects.entries()) {
      const stored = join(root, prefix, o.name);
      expect(sha256sumOf(stored)).toBe(sha256sumOf(files[i]!.path));
      expect(o.sha256).toBe(sha256sumOf(files[i]!.path));
      expect(JSON.parse(readFileSync(`${stored}.tags.json`, "utf8"))).toEqual({ public: "yes" });
      expect(JSON.parse(readFileSync(`${stored}.meta.json`, "utf8"))).toEqual({
        size: o.size,
        sha256: sha256sumOf(files[i]!.path),
      });
      expect(o.url).toBe(pathToFileURL(stored).href);
    }
  });

  it("skips identical objects, and replaces changed ones", async () => {
    const { files } = leg("idem");
    const store = new FileStore(join(work.dir, "idem", "bucket"));
    await publishFiles(store, files, { prefix: "p" });
    const again = await publishFiles(store, files, { prefix: "p", tags: { public: "yes" } });
    expect(again.objects.map((o) => o.status)).toEqual(["skipped", "skipped", "skipped"]);
    // Skipped objects still get the tags asked for.
    expect(again.objects.map((o) => o.tags)).toEqual([
      { public: "yes" },
      { public: "yes" },
      { public: "yes" },
    ]);
    appendFileSync(files[2]!.path, "vim-minimal\n");
    const third = await publishFiles(store, files, { prefix: "p" });
    expect(third.objects.map((o) => o.status)).toEqual(["skipped", "skipped", "uploaded"]);
    expect(sha256sumOf(join(work.dir, "idem", "bucket", "p", third.objects[2]!.name))).toBe(
      sha256sumOf(files[2]!.path),
    );
  });

  it("a source that fails mid-copy leaves no object and no temp file under the final name", async () => {
    const dir = join(work.dir, "atomic");
    mkdirSync(dir);
    const path = writeBytes(join(dir, "disk.raw"), bytesFor("atomic", 40 * MiB));
    const root = join(dir, "bucket");
    const store = new FileStore(root);
    let cut = false;
    const err = await publishFiles(store, [{ path }], {
      prefix: "x",
      onProgress: (p) => {
        // After the first 8 MiB chunk, the source shrinks: the next read comes up short.
        if (p.phase === "uploading" && p.bytesDone >= 8 * MiB && !cut) {
          cut = true;
          truncateSync(path, 10 * MiB);
        }
      },
    }).catch((e) => e);
    expect(cut).toBe(true);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/disk\.raw changed while it was being published/);
    expect(existsSync(join(root, "x", "disk.raw"))).toBe(false);
    expect(listing(root)).toEqual([]);
  });

  it("refuses a file that no longer matches its .sha256sum; the old object stays", async () => {
    const { name, files } = leg("mismatch");
    const root = join(work.dir, "mismatch", "bucket");
    const store = new FileStore(root);
    await publishFiles(store, files.slice(0, 1), { prefix: "m" });
    const before = sha256sumOf(join(root, "m", name));
    appendFileSync(files[0]!.path, "tampered");
    const err = await publishFiles(store, files.slice(0, 1), { prefix: "m" }).catch((e) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/does not match its \.sha256sum/);
    expect(sha256sumOf(join(root, "m", name))).toBe(before);
    expect(listing(root).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  it("resolves relative file:// URLs against the working directory", async () => {
    expect(fileStoreRoot("file://./dist/bucket", "/work/x")).toBe("/work/x/dist/bucket");
    expect(fileStoreRoot("file://dist/bucket", "/work/x")).toBe("/work/x/dist/bucket");
    expect(fileStoreRoot("file:///srv/images", "/work/x")).toBe("/srv/images");
    expect(fileStoreRoot("file:///srv/my%20images", "/work/x")).toBe("/srv/my images");
    const store = await openStore("file://./rel", { cwd: work.dir });
    expect(store.url).toBe(pathToFileURL(join(work.dir, "rel")).href);
    await expect(openStore("file://", {})).rejects.toThrow(UsageError);
    await expect(openStore("ftp://host/x", {})).rejects.toThrow(/unsupported store/);
  });

  it("copies a file whose SHA-256 the caller already computed without hashing it again, but only while unchanged", async () => {
    const { name, files } = leg("hashed");
    const image = files[0]!.path;
    const real = sha256sumOf(image);
    const st = statSync(image);
    const root = join(work.dir, "hashed", "bucket");
    const prefix = "images/10/10.1/oci/20260220143000";
    const hashed = { [name]: { sha256: real, size: st.size, mtimeMs: st.mtimeMs } };
    let result = await publishFiles(new FileStore(root), [files[0]!], {
      prefix,
      hashedFiles: hashed,
      useSidecarChecksums: false,
    });
    const object = join(root, prefix, name);
    expect(sha256sumOf(object)).toBe(real);
    // The kernel copied it: our reader read none of its bytes.
    expect(result.objects[0]).toMatchObject({ status: "uploaded", sha256: real, bytesRead: 0 });
    expect(JSON.parse(readFileSync(`${object}.meta.json`, "utf8"))).toEqual({ size: st.size, sha256: real });

    // Rewritten since it was hashed (same size, new mtime): the recorded hash is not trusted.
    writeBytes(image, bytesFor("hashed-again", st.size));
    const now = sha256sumOf(image);
    result = await publishFiles(new FileStore(join(work.dir, "hashed", "bucket2")), [files[0]!], {
      prefix,
      hashedFiles: hashed,
      useSidecarChecksums: false,
    });
    expect(result.objects[0]).toMatchObject({ status: "uploaded", sha256: now });
    expect(result.objects[0]!.bytesRead).toBeGreaterThanOrEqual(st.size);
  });

  it("a directory that cannot be created is a one-line error, not a hang (Node's recursive mkdir spins under /proc)", async () => {
    const store = await openStore("file:///proc/cloud-images-no-such-dir/a/b");
    await expect(store.check()).rejects.toThrow(
      /cannot create store directory \/proc\/cloud-images-no-such-dir\/a\/b: ENOENT/,
    );
  }, 10_000);
});
