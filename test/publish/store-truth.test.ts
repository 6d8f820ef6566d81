/**
 * A file:// store that never lies: the "identical object exists" skip re-reads the stored object, a
 * local file that no longer matches its .sha256sum is refused rather than skipped, sidecar names are
 * reserved, a publish that runs out of space leaves nothing at the key, and two publishes of one key on
 * this machine never overlap. Oracles: coreutils sha256sum, the store's directory listing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_BUSY } from "../../src/errors.js";
import { acquireLock } from "../../src/process/lock.js";
import { lockDir } from "../../src/state.js";
import { runCli } from "../helpers/cli.js";
import { bytesFor, MiB, sha256sumOf, tempDir, writeBytes, writeSha256sum } from "./helpers/files.js";

const work = tempDir("publish-truth");
afterAll(() => work.cleanup());
const PREFIX = "images/9/9.6/gencloud/20260220143000";
const NAME = "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2";

function setup(label: string, size = 2 * MiB + 3) {
  const dir = join(work.dir, label);
  mkdirSync(join(dir, "out"), { recursive: true });
  const image = writeBytes(join(dir, "out", NAME), bytesFor(label, size));
  writeSha256sum(join(dir, "out"), NAME);
  const bucket = join(dir, "bucket");
  const publish = (...files: string[]) =>
    runCli(["publish", ...files, "--store", `file://${bucket}`, "--prefix", PREFIX]);
  return { dir, image, bucket, stored: join(bucket, PREFIX, NAME), publish };
}

function listing(root: string): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
      .sort();
  } catch {
    return [];
  }
}

describe("file:// store", () => {
  it("a corrupted stored object is found and replaced, not skipped", async () => {
    const t = setup("corrupt");
    let r = await t.publish(t.image, `${t.image}.sha256sum`);
    expect(r.code, r.stderr).toBe(0);
    // Rot in the store: one byte flipped, size and metadata unchanged.
    const bytes = readFileSync(t.stored);
    bytes[1234] = bytes[1234]! ^ 0x01;
    writeFileSync(t.stored, bytes);
    expect(sha256sumOf(t.stored)).not.toBe(sha256sumOf(t.image));
    r = await t.publish(t.image, `${t.image}.sha256sum`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `cloud-images: warning: file://${t.bucket}/${PREFIX}/${NAME} no longer has the bytes its metadata records (corrupted in the store): uploading it again`,
    );
    expect(r.stdout).toContain(`uploaded: ${PREFIX}/${NAME}`);
    expect(r.stdout).toContain(`skipped (identical object exists): ${PREFIX}/${NAME}.sha256sum`);
    expect(sha256sumOf(t.stored)).toBe(sha256sumOf(t.image));
  });

  it("a local file that no longer matches its .sha256sum is refused even when the store has the old one", async () => {
    const t = setup("stale-sum");
    let r = await t.publish(t.image, `${t.image}.sha256sum`);
    expect(r.code, r.stderr).toBe(0);
    const before = sha256sumOf(t.stored);
    const changed = readFileSync(t.image);
    changed[99] = changed[99]! ^ 0xff;
    writeFileSync(t.image, changed); // same size; the .sha256sum still names the old bytes
    r = await t.publish(t.image, `${t.image}.sha256sum`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^cloud-images: error: not published: ${NAME}, ${NAME}\\.sha256sum \\(${NAME} does not match its \\.sha256sum .*\\); nothing was published$`,
      ),
    );
    expect(sha256sumOf(t.stored)).toBe(before);
  });

  it("names ending like a sidecar are refused before anything is written", async () => {
    const t = setup("sidecar-names");
    const meta = join(t.dir, "out", `${NAME}.meta.json`);
    writeFileSync(meta, '{"size": 1, "sha256": "x"}\n');
    const r = await t.publish(t.image, meta);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `cloud-images: error: cannot publish ${PREFIX}/${NAME}.meta.json to a file:// store: names ending in .meta.json are reserved for its sidecar files\n`,
    );
    expect(listing(t.bucket)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "on a full disk, an object whose metadata did not fit is not left at its key",
    async () => {
      const t = setup("full", 1 * MiB);
      const bucket = join(t.dir, "small");
      mkdirSync(bucket);
      // 1 MiB of tmpfs: the image fits exactly, its metadata does not.
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", bucket]);
      try {
        const r = await runCli(["publish", t.image, "--store", `file://${bucket}`, "--prefix", PREFIX]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toMatch(
          new RegExp(`^cloud-images: error: not published: ${NAME} \\(.*ENOSPC.*\\); nothing was published$`),
        );
        expect(listing(bucket)).toEqual([]);
      } finally {
        spawnSync("umount", [bucket]);
        rmdirSync(bucket);
      }
    },
  );

  it("a second publish of a key being published is refused, naming the holder", async () => {
    const t = setup("locked");
    const url = `file://${t.bucket}`;
    const lock = await acquireLock(`${url}/${PREFIX}/${NAME}.sha256sum`, {
      dir: lockDir(),
      purpose: "cloud-images publish",
    });
    try {
      const r = await t.publish(t.image, `${t.image}.sha256sum`);
      expect(r.code).toBe(EXIT_BUSY);
      expect(r.stderr).toMatch(
        new RegExp(
          `^cloud-images: error: ${url}/${PREFIX}/${NAME}\\.sha256sum is in use by pid ${process.pid} since \\S+ \\(cloud-images publish\\); wait for it to finish or stop it\\n$`,
        ),
      );
      expect(listing(t.bucket)).toEqual([]);
    } finally {
      await lock.release();
    }
    const r = await t.publish(t.image, `${t.image}.sha256sum`);
    expect(r.code, r.stderr).toBe(0);
  });
});
