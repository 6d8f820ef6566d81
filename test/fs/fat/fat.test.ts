/**
 * The FAT reader against mtools and dosfstools on FAT12, FAT16 and FAT32 images: every path mtools
 * lists, every file's bytes as mtools copies them out, a fragmented file (mshowfat shows its runs),
 * long, short and Unicode names, case-insensitive lookup, and the dirty bits fsck.fat reports.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BufferSource, FileSource } from "../../../src/disk/source.js";
import { openFat } from "../../../src/fs/fat/index.js";
import { PathResolver } from "../../../src/fs/path.js";
import { openFilesystem } from "../../../src/fs/probe.js";
import type { Filesystem } from "../../../src/fs/types.js";
import { DEEP, type FatAnswers, type FatKind, fatImage, LONG_NAME } from "./images.js";

/** Every path below the root, directories with a trailing slash, as `mdir -/ -b` prints them. */
async function allPaths(fs: Filesystem): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const visit = async (dir: string, ino: number) => {
    for (const e of await fs.readDir(ino)) {
      const isDir = (await fs.stat(e.ino)).type === "dir";
      const path = `${dir}${e.name}${isDir ? "/" : ""}`;
      out.set(path, e.ino);
      if (isDir) await visit(path, e.ino);
    }
  };
  await visit("/", fs.rootIno);
  return out;
}

/** What `fsck.fat -n` (read-only) says about an image held in memory. */
function fsckSays(data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), "fsck-fat-"));
  try {
    writeFileSync(join(dir, "fs.img"), data);
    return execFileSync("fsck.fat", ["-n", join(dir, "fs.img")], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ["fat12", "fat16", "fat32"] as FatKind[]) {
  describe(`${kind} reader`, () => {
    let image: { path: string; answers: FatAnswers };
    let source: FileSource;
    let fs: Filesystem;
    let paths: PathResolver;

    beforeAll(async () => {
      image = fatImage(kind);
      source = await FileSource.open(image.path);
      fs = await openFilesystem(source);
      paths = new PathResolver(fs);
    });
    afterAll(() => source?.close());

    it("is recognised as vfat with the label and volume ID mkfs.fat wrote", () => {
      expect(fs.type).toBe("vfat");
      expect(fs.label).toBe("ESP");
      expect(fs.uuid).toBe("1234-ABCD");
    });

    it("lists exactly the paths mtools lists", async () => {
      const mine = [...(await allPaths(fs)).keys()].sort();
      expect(mine).toEqual([...image.answers.paths].sort());
      expect(mine).toContain(`/${LONG_NAME}`);
      expect(mine).toContain(`/${DEEP}/leaf.txt`);
      expect(mine.filter((p) => p.startsWith("/many/") && p !== "/many/")).toHaveLength(300);
    });

    it("reads every file as mtools copies it out", async () => {
      const all = await allPaths(fs);
      for (const [path, sha] of Object.entries(image.answers.sha256)) {
        const ino = all.get(path)!;
        const st = await fs.stat(ino);
        const data = await fs.read(ino, 0, st.size + 100);
        expect(data.length, path).toBe(st.size);
        expect(createHash("sha256").update(data).digest("hex"), path).toBe(sha);
      }
    });

    it("reads a fragmented file in pieces across its runs", async () => {
      expect(image.answers.fragments).toBeGreaterThan(20);
      const file = await paths.resolve("/fragmented.bin");
      const size = file.stat.size;
      const whole = await fs.read(file.ino, 0, size);
      for (const [off, len] of [
        [0, 1],
        [1000, 5000],
        [Math.floor(size / 3), Math.floor(size / 2)],
        [size - 10, 100],
      ] as const) {
        expect((await fs.read(file.ino, off, len)).equals(whole.subarray(off, off + len))).toBe(true);
      }
    });

    it("looks names up without regard to case, and shows short names as mtools does", async () => {
      const a = await paths.resolve("/EFI/BOOT/BOOTX64.EFI");
      const b = await paths.resolve("/efi/boot/bootx64.efi");
      expect(b.ino).toBe(a.ino);
      expect((await fs.readDir(fs.rootIno)).map((e) => e.name)).toContain("readme.txt");
      const ro = await paths.resolve("/readme.txt");
      expect(ro.stat.mode).toBe(0o555);
      expect((await paths.resolve("/EFI")).stat.type).toBe("dir");
      expect(await fs.listXattrs(a.ino)).toEqual([]);
      await expect(fs.readLink(a.ino)).rejects.toThrow(/not a symbolic link/);
    });

    it("is clean as made, and dirty when fsck.fat says so", async () => {
      expect(await fs.cleanState()).toMatchObject({ clean: true });
      const data = readFileSync(image.path);
      const fat32 = kind === "fat32";
      // Linux's mark: bit 0 of the boot sector's state byte.
      const marked = Buffer.from(data);
      marked[fat32 ? 65 : 37]! |= 1;
      expect(fsckSays(marked)).toMatch(/Dirty bit is set/);
      const state = await (await openFat(new BufferSource(marked))).cleanState();
      expect(state).toMatchObject({ clean: false, detail: expect.stringMatching(/marked dirty/) });
      if (kind !== "fat12") {
        // Windows' mark: the clean-shutdown bit of FAT entry 1, cleared in every FAT copy.
        const cleared = Buffer.from(data);
        const b = cleared;
        const fatStart = b.readUInt16LE(14) * b.readUInt16LE(11);
        const fatBytes = (b.readUInt16LE(22) || b.readUInt32LE(36)) * b.readUInt16LE(11);
        for (let copy = 0; copy < b[16]!; copy++) {
          const at = fatStart + copy * fatBytes + (fat32 ? 7 : 3); // the entry's high byte
          b[at]! &= fat32 ? 0xf7 : 0x7f;
        }
        expect(fsckSays(cleared)).toMatch(/Dirty bit is set/);
        const dirty = await (await openFat(new BufferSource(cleared))).cleanState();
        expect(dirty).toMatchObject({
          clean: false,
          detail: expect.stringMatching(/clean-shutdown bit is clear/),
        });
      }
    });

    it("refuses a chain that loops", async () => {
      const data = readFileSync(image.path);
      const ino = (await paths.resolve("/fragmented.bin")).ino;
      const entry = data.subarray(ino * 32, ino * 32 + 32);
      const first = (kind === "fat32" ? entry.readUInt16LE(20) * 0x10000 : 0) + entry.readUInt16LE(26);
      const fatStart = data.readUInt16LE(14) * data.readUInt16LE(11);
      // Point the first cluster's FAT entry back at itself (every FAT width).
      if (kind === "fat32") data.writeUInt32LE(first, fatStart + first * 4);
      else if (kind === "fat16") data.writeUInt16LE(first, fatStart + first * 2);
      else {
        const at = fatStart + first + (first >> 1);
        const v = data.readUInt16LE(at);
        data.writeUInt16LE(first & 1 ? (v & 0x000f) | (first << 4) : (v & 0xf000) | first, at);
      }
      const broken = await openFat(new BufferSource(data));
      await expect(broken.read(ino, 0, 1 << 20)).rejects.toThrow(/loops back to cluster/);
    });
  });
}
