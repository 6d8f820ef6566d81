// Container detection from content: raw, qcow2, and the formats refused with a clear message.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectContainer, openContainer, openImage } from "../../src/disk/image.js";
import { BufferSource } from "../../src/disk/source.js";
import { ImageFormatError, InputFileError } from "../../src/errors.js";
import { mixedContent, rawToQcow2, run, type TempDir, tempDir } from "./tools.js";

let tmp: TempDir;
let input: Buffer;
beforeAll(() => {
  tmp = tempDir("disk-image");
  input = mixedContent(3, 1024 * 1024);
  writeFileSync(tmp.path("disk.raw"), input);
});
afterAll(() => tmp.remove());

/** The one-line error for a path that is not an image: a typed image error, or bad input for what is no file. */
async function refused(
  path: string,
  kind: typeof ImageFormatError | typeof InputFileError = ImageFormatError,
): Promise<string> {
  const e = await openImage(path).then(
    async (img) => {
      await img.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(kind);
  const message = (e as Error).message;
  expect(message).not.toContain("\n");
  return message;
}

describe("openImage", () => {
  it("opens a raw file as itself and counts the bytes it reads", async () => {
    const img = await openImage(tmp.path("disk.raw"));
    try {
      expect(img.format).toBe("raw");
      expect(img.virtualSize).toBe(input.length);
      expect(img.qcow2).toBeUndefined();
      const before = img.file.bytesRead;
      expect((await img.source.read(12345, 1000)).equals(input.subarray(12345, 13345))).toBe(true);
      expect(img.file.bytesRead - before).toBe(1000);
    } finally {
      await img.close();
    }
  });

  it("detects qcow2 from its content, whatever the file is called", async () => {
    rawToQcow2(tmp.path("disk.raw"), tmp.path("looks-raw.img"));
    const img = await openImage(tmp.path("looks-raw.img"));
    try {
      expect(img.format).toBe("qcow2");
      expect(img.virtualSize).toBe(input.length);
      expect((await img.source.read(0, input.length)).equals(input)).toBe(true);
    } finally {
      await img.close();
    }
  });

  it.each([
    ["vmdk", /is a VMDK image; convert it with qemu-img convert/],
    ["vhdx", /is a VHDX image/],
    ["vdi", /is a VirtualBox VDI image/],
    ["vpc", /is a dynamic VHD image/],
    ["qed", /is a QED image/],
  ])("refuses %s images made by qemu-img", async (format, message) => {
    const path = tmp.path(`disk.${format}`);
    run("qemu-img", ["convert", "-f", "raw", "-O", format, tmp.path("disk.raw"), path]);
    const m = await refused(path);
    expect(m).toMatch(message);
    expect(m).toContain(path);
  });

  it.each([
    ["gzip", ["gzip", "-k", "-f"], ".gz", /looks like a gzip-compressed file; decompress it first/],
    ["zstd", ["zstd", "-q", "-k", "-f"], ".zst", /looks like a zstd-compressed file; decompress it first/],
    ["xz", ["xz", "-k", "-f"], ".xz", /looks like an xz-compressed file; decompress it first/],
    ["bzip2", ["bzip2", "-k", "-f"], ".bz2", /looks like a bzip2-compressed file; decompress it first/],
  ])("refuses a %s-compressed image", async (_name, cmd, ext, message) => {
    const [tool, ...args] = cmd as [string, ...string[]];
    run(tool, [...args, tmp.path("disk.raw")]);
    expect(await refused(tmp.path(`disk.raw${ext}`))).toMatch(message);
  });

  it("refuses an empty file, a missing file and a directory", async () => {
    writeFileSync(tmp.path("empty"), "");
    expect(await refused(tmp.path("empty"))).toMatch(/is empty/);
    expect(await refused(tmp.path("missing"), InputFileError)).toMatch(/cannot open .*missing: no such file/);
    mkdirSync(tmp.path("dir"));
    expect(await refused(tmp.path("dir"), InputFileError)).toMatch(
      /dir is a directory, not a regular file or a block device/,
    );
  });

  it("reads qcow2 held in memory (openContainer over any ByteSource)", async () => {
    const q = readFileSync(tmp.path("looks-raw.img"));
    const c = await openContainer(new BufferSource(q), "in-memory");
    expect(c.format).toBe("qcow2");
    expect((await c.source.read(1000, 5000)).equals(input.subarray(1000, 6000))).toBe(true);
    expect(detectContainer(input.subarray(0, 512), "x")).toBe("raw");
  });
});
