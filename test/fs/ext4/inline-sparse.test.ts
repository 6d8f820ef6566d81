/**
 * Inline-data files whose size runs past their inline bytes (a sparse tail never converted to
 * extents; other projects' test images hold such files, this kernel converts them on truncate, so
 * debugfs sets the size): read as the kernel reads them, the tail as zeros. (debugfs 1.47's cat
 * prints the inline bytes only.)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PathResolver } from "../../../src/fs/path.js";
import { loopMountUnavailable, withLoopMount } from "../loop-images.js";
import { cachedImage } from "./images.js";
import { openImage, run, tempDir } from "./util.js";

const FILES = { "/short": ["hello\n", 100_000], "/withdata": ["x".repeat(100), 5000] } as const;

let image: string;
let opened: Awaited<ReturnType<typeof openImage>>;

beforeAll(async () => {
  image = await cachedImage({ kind: "inline-sparse", files: FILES }, async (img) => {
    const tmp = tempDir("ext4-inline-");
    try {
      const src = join(tmp.dir, "src");
      mkdirSync(src);
      for (const [path, [content]] of Object.entries(FILES)) writeFileSync(join(src, path), content);
      run("mkfs.ext4", ["-q", "-F", "-O", "inline_data", "-d", src, img, "4M"]);
      const cmds = Object.entries(FILES).map(([path, [, size]]) => `sif ${path} size ${size}`);
      run("debugfs", ["-w", "-f", "-", img], cmds.join("\n"));
    } finally {
      tmp.cleanup();
    }
  });
  opened = await openImage(image);
});
afterAll(() => opened?.source.close());

describe("sparse inline data", () => {
  it("keeps the inline flag with a size beyond the inline area (checked with debugfs)", () => {
    for (const [path, [, size]] of Object.entries(FILES)) {
      const stat = run("debugfs", ["-R", `stat ${path}`, image]);
      expect(stat).toMatch(/Flags: 0x10000000/);
      expect(stat).toContain(`Size: ${size}`);
    }
  });

  it("reads the inline bytes, as debugfs cat prints them, and then zeros", async () => {
    const paths = new PathResolver(opened.fs);
    for (const [path, [content, size]] of Object.entries(FILES)) {
      const mine = await paths.readFile(path);
      const want = Buffer.alloc(size);
      want.write(content);
      expect(mine.equals(want), path).toBe(true);
      const debugfs = Buffer.from(run("debugfs", ["-R", `cat ${path}`, image]), "latin1");
      expect(debugfs.length, path).toBeGreaterThanOrEqual(content.length);
      expect(debugfs.equals(mine.subarray(0, debugfs.length)), path).toBe(true);
      // Windows inside the zero tail and across its start.
      const ino = (await paths.resolve(path)).ino;
      expect((await opened.fs.read(ino, size - 10, 100)).equals(Buffer.alloc(10))).toBe(true);
      expect((await opened.fs.read(ino, 2, 200)).equals(want.subarray(2, 202))).toBe(true);
    }
  });

  it("matches what the kernel reads from a read-only mount", async (ctx) => {
    if (loopMountUnavailable()) return ctx.skip();
    const paths = new PathResolver(opened.fs);
    const { readFileSync } = await import("node:fs");
    const kernel = withLoopMount(image, "ro", (mnt) =>
      Object.keys(FILES).map((p) => readFileSync(join(mnt, p))),
    );
    for (const [i, path] of Object.keys(FILES).entries()) {
      expect((await paths.readFile(path)).equals(kernel[i]!), path).toBe(true);
    }
  });
});
