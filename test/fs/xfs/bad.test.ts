/**
 * Bad input: truncated, zeroed, garbage and corrupted images each give an ImageFormatError with a
 * one-line message. Corruptions are written with xfs_db in expert mode (`write -d` stores invalid
 * values but recomputes the v5 checksum, so the structural checks behind the checksum are reached).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BufferSource, FileSource } from "../../../src/disk/source.js";
import { ImageFormatError } from "../../../src/errors.js";
import { openXfs, type XfsFilesystem } from "../../../src/fs/xfs/index.js";
import { type WalkedEntry, walk } from "./helpers.js";
import { dir, makeXfsImage, seededBytes } from "./mkfs.js";
import { GENERATED_CONFIGS, standardTree } from "./trees.js";

const V5 = GENERATED_CONFIGS[0];
let base: string;
let work: string;
let layout: Map<string, WalkedEntry>;

beforeAll(async () => {
  base = makeXfsImage(V5.name, V5.options, V5.size, standardTree(V5.scale, { remoteSymlinks: false })).path;
  work = mkdtempSync(join(tmpdir(), "xfs-bad-"));
  const src = await FileSource.open(base);
  layout = await walk(await openXfs(src));
  await src.close();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

let copies = 0;
/** A sparse copy of the base image with xfs_db expert-mode commands applied. */
function corrupted(commands: readonly string[], image = base): string {
  const path = join(work, `c${copies++}.img`);
  execFileSync("cp", ["--sparse=always", image, path]);
  if (commands.length > 0) {
    execFileSync("xfs_db", ["-x", ...commands.flatMap((c) => ["-c", c]), path], { stdio: "pipe" });
  }
  return path;
}

async function withFs<T>(path: string, f: (fs: XfsFilesystem) => Promise<T>): Promise<T> {
  const src = await FileSource.open(path);
  try {
    return await f(await openXfs(src));
  } finally {
    await src.close();
  }
}

/** Expects `promise` to reject with an ImageFormatError whose single-line message matches `pattern`. */
async function expectFormatError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageFormatError);
  const message = (err as Error).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain("\n");
}

const ino = (path: string) => layout.get(path)!.ino;

describe("whole-image damage", () => {
  it("refuses a truncated image", async () => {
    const path = corrupted([]);
    truncateSync(path, V5.size / 2);
    await expectFormatError(
      withFs(path, async () => {}),
      /truncated image/,
    );
  });

  it("refuses a file too small for a superblock", async () => {
    await expectFormatError(openXfs(new BufferSource(Buffer.from("XFSB"))), /too small/);
  });

  it("refuses a zeroed superblock", async () => {
    const path = corrupted([]);
    execFileSync("dd", ["if=/dev/zero", `of=${path}`, "bs=512", "count=1", "conv=notrunc"], {
      stdio: "pipe",
    });
    await expectFormatError(
      withFs(path, async () => {}),
      /bad magic/,
    );
  });

  it("refuses garbage", async () => {
    await expectFormatError(openXfs(new BufferSource(seededBytes(42, 1 << 20))), /bad magic/);
    const fake = seededBytes(43, 1 << 20);
    fake.write("XFSB", 0, "latin1");
    await expectFormatError(openXfs(new BufferSource(fake)), /xfs superblock/);
  });

  it("refuses a superblock whose checksum does not match", async () => {
    const path = corrupted([]);
    writeFileSync(join(work, "label"), "corrupt");
    execFileSync("dd", [`if=${join(work, "label")}`, `of=${path}`, "bs=1", "seek=108", "conv=notrunc"], {
      stdio: "pipe",
    });
    await expectFormatError(
      withFs(path, async () => {}),
      /checksum mismatch/,
    );
  });

  it("refuses unknown incompatible features", async () => {
    const path = corrupted(["sb 0", "write -d features_incompat 0x4000000b"]);
    await expectFormatError(
      withFs(path, async () => {}),
      /unsupported incompatible feature bits 0x40000000/,
    );
  });
});

describe("corrupt inodes", () => {
  it("refuses an inode with a bad magic number", async () => {
    const path = corrupted([`inode ${ino("/files/f4096")}`, "write -d core.magic 0x1234"]);
    await expectFormatError(
      withFs(path, (fs) => fs.stat(ino("/files/f4096"))),
      /inode \d+: bad magic 0x1234/,
    );
  });

  it("refuses an inode whose checksum does not match", async () => {
    const path = corrupted([`inode ${ino("/files/f4096")}`, "write -c core.uid 77"]);
    await expectFormatError(
      withFs(path, (fs) => fs.stat(ino("/files/f4096"))),
      /checksum mismatch/,
    );
  });

  it("refuses an extent count beyond what fits in the inode", async () => {
    const path = corrupted([`inode ${ino("/files/f65543")}`, "write -d core.nextents 1000"]);
    await expectFormatError(
      withFs(path, (fs) => fs.read(ino("/files/f65543"), 0, 10)),
      /1000 extents do not fit/,
    );
  });

  it("refuses an extent that points outside the filesystem", async () => {
    const path = corrupted([`inode ${ino("/files/f65543")}`, "write -d u3.bmx[0].startblock 0xfffffffffff"]);
    await expectFormatError(
      withFs(path, (fs) => fs.read(ino("/files/f65543"), 0, 10)),
      /lies outside the filesystem/,
    );
  });

  it("refuses a symlink longer than the kernel allows", async () => {
    const path = corrupted([`inode ${ino("/links/short")}`, "write -d core.size 5000"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readLink(ino("/links/short"))),
      /outside 1\.\.1024/,
    );
  });
});

describe("corrupt directories", () => {
  it("refuses a short-form directory whose count runs past its data", async () => {
    const path = corrupted([`inode ${ino("/sf")}`, "write -d u3.sfdir3.hdr.count 200"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(ino("/sf"))),
      /runs past the end/,
    );
  });

  it("refuses a directory block entry whose name runs past the block", async () => {
    const path = corrupted([`inode ${ino("/block")}`, "dblock 0", "write -d bu[5].namelen 255"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(ino("/block"))),
      /(runs past the end|wrong offset tag)/,
    );
  });

  it("refuses a directory entry pointing to an inode outside the filesystem", async () => {
    const path = corrupted([`inode ${ino("/block")}`, "dblock 0", "write -d bu[5].inumber 0xffffffffff"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(ino("/block"))),
      /invalid inode number/,
    );
  });

  it("refuses a directory entry whose inode number is past 2^53 - 1, naming it exactly", async () => {
    const path = corrupted([
      `inode ${ino("/block")}`,
      "dblock 0",
      "write -d bu[5].inumber 0x7fffffffffffffff",
    ]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(ino("/block"))),
      /invalid inode number 9223372036854775807$/,
    );
  });

  it("refuses a directory data block with a bad magic number", async () => {
    const path = corrupted([`inode ${ino("/leaf")}`, "dblock 0", "write -d dhdr.hdr.magic 0x41414141"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(ino("/leaf"))),
      /bad magic 0x41414141/,
    );
  });
});

describe("corrupt extent B+trees", () => {
  const btree = () => ino("/btree");

  it("stops at a leaf whose sibling pointer makes a cycle", async () => {
    // The v4 image's /btree directory has two extent btree leaves, so listing it follows a sibling.
    const v4 = GENERATED_CONFIGS[1];
    const image = makeXfsImage(
      v4.name,
      v4.options,
      v4.size,
      standardTree(v4.scale, { remoteSymlinks: true }),
    ).path;
    const dirIno = await withFs(
      image,
      async (fs) => (await fs.readDir(fs.rootIno)).find((e) => e.name === "btree")!.ino,
    );
    const root = execFileSync("xfs_db", ["-r", "-c", `inode ${dirIno}`, "-c", "p u.bmbt.ptrs", image], {
      encoding: "utf8",
    });
    const [, first, second] = /ptrs\[1-2\] = 1:(\d+) 2:(\d+)/.exec(root)!;
    expect(Number(second)).toBeGreaterThan(0);
    const selfLoop = corrupted(
      [`inode ${dirIno}`, "addr u.bmbt.ptrs[1]", `write -d rightsib ${first}`],
      image,
    );
    await expectFormatError(
      withFs(selfLoop, (fs) => fs.readDir(dirIno)),
      /out of order/,
    );
    // A sibling that is not an extent btree block at all (the superblock).
    const notBtree = corrupted([`inode ${dirIno}`, "addr u.bmbt.ptrs[1]", "write -d rightsib 0"], image);
    await expectFormatError(
      withFs(notBtree, (fs) => fs.readDir(dirIno)),
      /extent btree block 0: bad magic/,
    );
  });

  it("refuses an absurdly deep tree", async () => {
    const path = corrupted([`inode ${btree()}`, "write -d u3.bmbt.level 200"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(btree())),
      /absurd depth 200/,
    );
  });

  it("refuses a child block at the wrong level", async () => {
    const path = corrupted([`inode ${btree()}`, "write -d u3.bmbt.level 2"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(btree())),
      /level 0, expected 1/,
    );
  });

  it("refuses a btree pointer outside the filesystem", async () => {
    const path = corrupted([`inode ${btree()}`, "write -d u3.bmbt.ptrs[1] 0x7ffffffffff"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(btree())),
      /outside the filesystem/,
    );
  });

  it("refuses a root that claims more keys than fit", async () => {
    const path = corrupted([`inode ${btree()}`, "write -d u3.bmbt.numrecs 5000"]);
    await expectFormatError(
      withFs(path, (fs) => fs.readDir(btree())),
      /holds 5000 of at most/,
    );
  });
});

describe("what mkfs.xfs 6.1 gets wrong", () => {
  it("refuses a v5 remote symlink written without its block header, as xfs_repair does", async () => {
    const img = makeXfsImage("v5-headerless-symlink", ["-b", "size=4096"], 32 * 1024 * 1024, {
      ...dir({ max: { kind: "symlink", target: "y".repeat(1023) } }),
    }).path;
    let repair = "";
    try {
      execFileSync("xfs_repair", ["-n", img], { stdio: "pipe" });
    } catch (e) {
      const out = e as { stdout?: Buffer; stderr?: Buffer };
      repair = `${out.stdout ?? ""}${out.stderr ?? ""}`;
    }
    expect(repair).toMatch(/bad symlink header/);
    await expectFormatError(
      withFs(img, async (fs) => {
        const entry = (await fs.readDir(fs.rootIno)).find((e) => e.name === "max")!;
        return fs.readLink(entry.ino);
      }),
      /remote block has bad magic/,
    );
  });
});
