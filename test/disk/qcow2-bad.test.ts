// qcow2 images the reader must refuse, and corrupt ones: each a one-line ImageFormatError, never a hang.
import { readFileSync, writeFileSync } from "node:fs";
import { deflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImage } from "../../src/disk/image.js";
import { ImageFormatError } from "../../src/errors.js";
import { mixedContent, rawToQcow2, run, type TempDir, tempDir } from "./tools.js";

let tmp: TempDir;
beforeAll(() => {
  tmp = tempDir("disk-qcow2-bad");
  writeFileSync(tmp.path("input.raw"), mixedContent(2, 2 * 1024 * 1024));
  rawToQcow2(tmp.path("input.raw"), tmp.path("plain.qcow2"));
  rawToQcow2(tmp.path("input.raw"), tmp.path("zlib.qcow2"), "-c");
  rawToQcow2(tmp.path("input.raw"), tmp.path("zstd.qcow2"), "-c", "-o", "compression_type=zstd");
});
afterAll(() => tmp.remove());

/**
 * `qemu-img create` of a LUKS-encrypted qcow2. qemu times a first PBKDF2 round in thread CPU time to pick
 * the iteration count, and where the kernel counts CPU time in scheduler ticks that round can measure 0 ms:
 * qemu-img then fails with "Unable to get accurate CPU usage" (3 runs in 20 on this machine). Only
 * that failure is retried.
 */
function createLuksQcow2(path: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      run("qemu-img", [
        "create",
        "-q",
        "--object",
        "secret,id=s0,data=x",
        "-f",
        "qcow2",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10",
        path,
        "1M",
      ]);
      return;
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? "");
      if (attempt >= 10 || !stderr.includes("Unable to get accurate CPU usage")) throw e;
    }
  }
}

/** Opens the image and reads all of it; returns the error it must have thrown. */
async function failure(path: string): Promise<ImageFormatError> {
  try {
    const img = await openImage(path);
    try {
      for (let at = 0; at < img.virtualSize; at += 1024 * 1024) {
        await img.source.read(at, Math.min(1024 * 1024, img.virtualSize - at));
      }
    } finally {
      await img.close();
    }
  } catch (e) {
    expect(e).toBeInstanceOf(ImageFormatError);
    const err = e as ImageFormatError;
    expect(err.message).not.toContain("\n");
    expect(err.message).toContain(path);
    expect(err.exitCode).toBe(1);
    return err;
  }
  throw new Error(`${path} opened and read without an error`);
}

/** A copy of `base` with `patch` applied to its bytes. */
function patched(base: string, name: string, patch: (b: Buffer) => Buffer | undefined): string {
  const b = readFileSync(tmp.path(base));
  const out = patch(b) ?? b;
  writeFileSync(tmp.path(name), out);
  return tmp.path(name);
}

/** Spec offsets (qcow2.txt): the L1 table offset, and the first L2 table and its first used entry. */
function layout(b: Buffer) {
  const l1 = Number(b.readBigUInt64BE(40));
  const l2 = Number(b.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
  let entry = l2;
  while (b.readBigUInt64BE(entry) === 0n) entry += 8;
  return { l1, l2, entry };
}

describe("refused features", () => {
  it("extended L2 entries", async () => {
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "extended_l2=on", tmp.path("extl2.qcow2"), "1M"]);
    expect((await failure(tmp.path("extl2.qcow2"))).message).toMatch(/extended L2 entries .*not supported/);
  });

  it("a backing file, named in the message", async () => {
    run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      "plain.qcow2",
      "-F",
      "qcow2",
      tmp.path("overlay.qcow2"),
    ]);
    expect((await failure(tmp.path("overlay.qcow2"))).message).toMatch(
      /backing file "plain\.qcow2" is not supported: flatten with qemu-img convert/,
    );
  });

  it("LUKS encryption", async () => {
    createLuksQcow2(tmp.path("luks.qcow2"));
    expect((await failure(tmp.path("luks.qcow2"))).message).toMatch(
      /encrypted images \(LUKS\) are not supported/,
    );
  });

  it("AES encryption (crypt_method 1)", async () => {
    const p = patched("plain.qcow2", "aes.qcow2", (b) => void b.writeUInt32BE(1, 32));
    expect((await failure(p)).message).toMatch(/encrypted images \(AES\)/);
  });

  it("an external data file", async () => {
    run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      `data_file=${tmp.path("data.raw")}`,
      tmp.path("datafile.qcow2"),
      "1M",
    ]);
    expect((await failure(tmp.path("datafile.qcow2"))).message).toMatch(
      /external data file .*data\.raw.* not supported/,
    );
  });

  it("unknown incompatible features", async () => {
    const p = patched("plain.qcow2", "unknown.qcow2", (b) => void b.writeBigUInt64BE(1n << 5n, 72));
    expect((await failure(p)).message).toMatch(/unknown incompatible features \(bit 5\)/);
  });

  it("qcow version 1", async () => {
    run("qemu-img", ["create", "-q", "-f", "qcow", tmp.path("v1.qcow"), "1M"]);
    expect((await failure(tmp.path("v1.qcow"))).message).toMatch(/qcow version 1 is not supported/);
  });

  it("an unknown compression type", async () => {
    const p = patched("zstd.qcow2", "ctype.qcow2", (b) => void b.writeUInt8(2, 104));
    expect((await failure(p)).message).toMatch(/unsupported compression type 2/);
  });

  it("dirty images are read (refcounts do not matter for reading)", async () => {
    const p = patched("plain.qcow2", "dirty.qcow2", (b) => void b.writeBigUInt64BE(1n, 72));
    const img = await openImage(p);
    try {
      expect(img.qcow2?.dirty).toBe(true);
      expect(
        (await img.source.read(0, 4096)).equals(readFileSync(tmp.path("input.raw")).subarray(0, 4096)),
      ).toBe(true);
    } finally {
      await img.close();
    }
  });
});

describe("corrupt headers", () => {
  it.each([
    ["cluster_bits 8", (b: Buffer) => void b.writeUInt32BE(8, 20), /cluster_bits 8/],
    ["cluster_bits 22", (b: Buffer) => void b.writeUInt32BE(22, 20), /cluster_bits 22/],
    ["version 4", (b: Buffer) => void b.writeUInt32BE(4, 4), /unsupported version 4/],
    ["header_length 100", (b: Buffer) => void b.writeUInt32BE(100, 100), /header_length 100/],
    [
      "a virtual size past 2^53",
      (b: Buffer) => void b.writeBigUInt64BE(1n << 62n, 24),
      /virtual size .* out of range/,
    ],
    ["an absurd virtual size", (b: Buffer) => void b.writeBigUInt64BE(1n << 52n, 24), /too large|too few/],
    ["an L1 table too small", (b: Buffer) => void b.writeUInt32BE(0, 36), /too few/],
    [
      "an L1 table of 2^32-1 entries",
      (b: Buffer) => void b.writeUInt32BE(0xffffffff, 36),
      /L1 table is too large/,
    ],
    [
      "an L1 table past the end",
      (b: Buffer) => void b.writeBigUInt64BE(1n << 40n, 40),
      /L1 table .* past the end/,
    ],
    ["an unaligned L1 table", (b: Buffer) => void b.writeBigUInt64BE(0x30200n, 40), /not cluster-aligned/],
    ["refcount_order 7", (b: Buffer) => void b.writeUInt32BE(7, 96), /refcount_order 7/],
  ])("%s", async (_name, patch, message) => {
    const p = patched("plain.qcow2", `hdr-${_name.replace(/\W+/g, "_")}.qcow2`, patch);
    expect((await failure(p)).message).toMatch(message);
  });

  it("a file shorter than a header", async () => {
    const p = patched("plain.qcow2", "short.qcow2", (b) => b.subarray(0, 50));
    expect((await failure(p)).message).toMatch(/too short/);
  });

  it("qcow2 magic followed by garbage", async () => {
    const g = Buffer.alloc(70_000);
    for (let i = 0; i < g.length; i++) g[i] = (i * 7919 + 13) & 0xff;
    Buffer.from("QFI\xfb", "latin1").copy(g);
    writeFileSync(tmp.path("garbage.qcow2"), g);
    await failure(tmp.path("garbage.qcow2"));
  });
});

describe("corrupt tables", () => {
  it("an L1 entry pointing past the end of the file", async () => {
    const p = patched(
      "plain.qcow2",
      "l1-past.qcow2",
      (b) => void b.writeBigUInt64BE((1n << 40n) | (1n << 63n), layout(b).l1),
    );
    expect((await failure(p)).message).toMatch(/L2 table at \d+ lies past the end of the file/);
  });

  it("an unaligned L1 entry", async () => {
    const p = patched(
      "plain.qcow2",
      "l1-unaligned.qcow2",
      (b) => void b.writeBigUInt64BE(0x10200n, layout(b).l1),
    );
    expect((await failure(p)).message).toMatch(/L2 table offset \d+ is not cluster-aligned/);
  });

  it("an L2 entry pointing past the end of the file", async () => {
    const p = patched(
      "plain.qcow2",
      "l2-past.qcow2",
      (b) => void b.writeBigUInt64BE((1n << 45n) | (1n << 63n), layout(b).entry),
    );
    expect((await failure(p)).message).toMatch(/data cluster for guest offset \d+ is at \d+, past the end/);
  });

  it("an unaligned L2 entry", async () => {
    const p = patched(
      "plain.qcow2",
      "l2-unaligned.qcow2",
      (b) => void b.writeBigUInt64BE(0x30200n, layout(b).entry),
    );
    expect((await failure(p)).message).toMatch(/unaligned host offset/);
  });

  it("a compressed L2 entry pointing past the end of the file", async () => {
    const p = patched(
      "zlib.qcow2",
      "c-past.qcow2",
      (b) => void b.writeBigUInt64BE((1n << 62n) | (1n << 40n), layout(b).entry),
    );
    expect((await failure(p)).message).toMatch(
      /compressed cluster for guest offset \d+ is at \d+, past the end/,
    );
  });

  /** Where the data of the first compressed cluster starts (64 KiB clusters). */
  function firstCompressed(b: Buffer): number {
    const { l2 } = layout(b);
    for (let at = l2; at < l2 + 65536; at += 8) {
      const e = b.readBigUInt64BE(at);
      if (e & (1n << 62n)) return Number(e & ((1n << 54n) - 1n));
    }
    throw new Error("no compressed cluster");
  }

  for (const kind of ["zlib", "zstd"]) {
    it(`corrupt ${kind} data`, async () => {
      const p = patched(`${kind}.qcow2`, `c-bad-${kind}.qcow2`, (b): undefined => {
        const host = firstCompressed(b);
        for (let i = 0; i < 512; i++) b[host + i] = (i * 31 + 7) & 0xff;
      });
      expect((await failure(p)).message).toMatch(
        new RegExp(`${kind} compressed cluster at host offset \\d+ is corrupt|holds \\d+ bytes`),
      );
    });
  }

  // A valid deflate stream of the wrong length (a few hundred bytes: it fits the entry's first sector).
  it("a zlib cluster that inflates to more than a cluster", async () => {
    const p = patched("zlib.qcow2", "c-long.qcow2", (b): undefined => {
      deflateRawSync(Buffer.alloc(65536 + 1000, 7)).copy(b, firstCompressed(b));
    });
    expect((await failure(p)).message).toMatch(/zlib compressed cluster at host offset \d+ is corrupt/);
  });

  it("a zlib cluster that inflates to less than a cluster", async () => {
    const p = patched("zlib.qcow2", "c-short.qcow2", (b): undefined => {
      deflateRawSync(Buffer.alloc(65536 - 1000, 7)).copy(b, firstCompressed(b));
    });
    expect((await failure(p)).message).toMatch(/holds 64536 bytes instead of 65536/);
  });

  it("a file truncated inside its data", async () => {
    const p = patched("plain.qcow2", "trunc-data.qcow2", (b) => b.subarray(0, Math.floor(b.length / 2)));
    expect((await failure(p)).message).toMatch(/past the end/);
  });

  it("a file truncated inside its L1 table", async () => {
    const p = patched("plain.qcow2", "trunc-l1.qcow2", (b) => b.subarray(0, layout(b).l1 + 4));
    expect((await failure(p)).message).toMatch(/L1 table .* past the end/);
  });
});
