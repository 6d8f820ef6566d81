/**
 * Extended attributes read from XFS images without mounting, compared with what the kernel's getfattr
 * read from the mounted image (v5) or with what xfsprogs' attr_set stored (v4), in every form of the
 * attribute fork: short form, leaf, node (dabtree), remote values, extent list and B+tree forks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileSource } from "../../../src/disk/source.js";
import { ImageFormatError } from "../../../src/errors.js";
import { PathResolver } from "../../../src/fs/path.js";
import { getXattr } from "../../../src/fs/xattr.js";
import { openXfs, type XfsFilesystem } from "../../../src/fs/xfs/index.js";
import { label, readerXattrs, type XattrImage, xattrToolsUnavailable } from "../xattr-fixtures.js";
import { attrForkShape, v4XattrImage, v5XattrImage } from "./xattr-images.js";

const LEAF_MAGIC = { 5: 0x3bee, 4: 0xfbee };
const NODE_MAGIC = { 5: 0x3ebe, 4: 0xfebe };

const cases = [
  { name: "v5-4k", version: 5, make: () => v5XattrImage("v5-4k"), mount: true },
  { name: "v5-1k", version: 5, make: () => v5XattrImage("v5-1k"), mount: true },
  { name: "v4-1k", version: 4, make: v4XattrImage, mount: false },
] as const;

for (const c of cases) {
  describe(`XFS ${c.name} extended attributes`, () => {
    let image: XattrImage | undefined;
    let source: FileSource | undefined;
    let fs: XfsFilesystem;
    let paths: PathResolver;
    const skipReason = c.mount ? xattrToolsUnavailable() : undefined;

    beforeAll(async () => {
      if (skipReason) {
        console.warn(`SKIPPED XFS ${c.name} attribute tests: ${skipReason}`);
        return;
      }
      image = c.make();
      source = await FileSource.open(image.path);
      fs = await openXfs(source);
      paths = new PathResolver(fs);
    });
    afterAll(() => source?.close());

    const ino = async (path: string) => (await paths.resolve(path)).ino;

    it("stores them in every attribute fork form (checked with xfs_db)", async (ctx) => {
      if (!image) return ctx.skip();
      const shape = async (path: string) => attrForkShape(image!.path, await ino(path));
      expect((await shape("/small")).format).toBe("local");
      expect(await shape("/leaf")).toMatchObject({ format: "extents", magic: LEAF_MAGIC[c.version] });
      expect(await shape("/node")).toMatchObject({ magic: NODE_MAGIC[c.version] });
      expect(await shape("/noderemote")).toMatchObject({ magic: NODE_MAGIC[c.version] });
      const fragmented = await shape("/fragmented");
      expect(fragmented.format).toBe("btree");
      expect(fragmented.extents).toBeGreaterThan(30);
    });

    it("lists every path's attributes as the kernel does", async (ctx) => {
      if (!image) return ctx.skip();
      const mine = await readerXattrs(fs);
      expect(Object.keys(mine).sort()).toEqual(Object.keys(image.kernel).sort());
      for (const [path, attrs] of Object.entries(image.kernel)) {
        expect(mine[path], path).toEqual(attrs);
      }
      // The forms are populated as intended, not just equal.
      expect(Object.keys(mine["/node"]!)).toHaveLength(400);
      expect(Object.keys(mine["/fragmented"]!)).toHaveLength(71);
    });

    it("finds one attribute by name and reports absent ones as undefined", async (ctx) => {
      if (!image) return ctx.skip();
      const shadow = await ino("/etc/shadow");
      const want = c.version === 5 ? label("shadow_t") : Buffer.alloc(label("shadow_t").length, "v");
      expect(await getXattr(fs, shadow, "security.selinux")).toEqual(want);
      expect(await getXattr(fs, shadow, "security.other")).toBeUndefined();
      expect(await getXattr(fs, await ino("/none"), "security.selinux")).toBeUndefined();
      expect((await getXattr(fs, await ino("/remote"), "user.r64k"))?.length).toBe(65536);
    });

    it("refuses a corrupt leaf block with an ImageFormatError", async (ctx) => {
      if (!image) return ctx.skip();
      // A copy of the filesystem whose /leaf attribute block is damaged, served from memory.
      const { BufferSource } = await import("../../../src/disk/source.js");
      const { readFileSync } = await import("node:fs");
      const data = readFileSync(image.path);
      const leafIno = await ino("/leaf");
      const block = await attrBlockOffset(image.path, leafIno);
      data.writeUInt16BE(500, block + (c.version === 5 ? 56 : 12)); // an entry count beyond the block
      const broken = await openXfs(new BufferSource(data));
      await expect(broken.listXattrs(leafIno)).rejects.toThrow(ImageFormatError);
      await expect(broken.listXattrs(leafIno)).rejects.toThrow(
        c.version === 5 ? /checksum mismatch/ : /claims 500 entries/,
      );
    });
  });
}

/** Byte offset of attribute-fork block 0 of `ino`, from xfs_db. */
async function attrBlockOffset(image: string, ino: number): Promise<number> {
  const { execFileSync } = await import("node:child_process");
  const text = execFileSync("xfs_db", ["-r", "-c", `inode ${ino}`, "-c", "ablock 0", "-c", "stack", image], {
    encoding: "utf8",
  });
  const m = /byte offset (\d+)/.exec(text);
  if (!m) throw new Error(`xfs_db stack: ${text}`);
  return Number(m[1]);
}
