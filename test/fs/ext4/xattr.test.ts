/**
 * Extended attributes of ext2/ext4 images made by `mkfs.ext4 -d` from a tree labelled with setfattr and
 * setfacl, read without mounting and compared with what getfattr reads from a read-only loop mount:
 * in-inode attributes, the attribute block (checksummed with metadata_csum), values in EA inodes,
 * ACLs in ext4's compact encoding, and 128-byte inodes that have no in-inode area.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BufferSource, FileSource } from "../../../src/disk/source.js";
import { ImageFormatError } from "../../../src/errors.js";
import { type Ext4Filesystem, openExt4 } from "../../../src/fs/ext4/index.js";
import { PathResolver } from "../../../src/fs/path.js";
import { getXattr } from "../../../src/fs/xattr.js";
import { runCli } from "../../helpers/cli.js";
import { withLoopMount } from "../loop-images.js";
import {
  applyXattrs,
  cachedXattrImage,
  commonFiles,
  eaInodeFiles,
  ext4Files,
  kernelXattrs,
  label,
  readerXattrs,
  type XattrFile,
  type XattrImage,
  xattrToolsUnavailable,
} from "../xattr-fixtures.js";
import { run, tempDir } from "./util.js";

const cases: { name: string; mkfs: string[]; files: () => XattrFile[]; csum: boolean }[] = [
  { name: "ext4-4k", mkfs: ["mkfs.ext4", "-b", "4096"], files: ext4Files, csum: true },
  {
    name: "ext4-1k-ea_inode",
    mkfs: ["mkfs.ext4", "-b", "1024", "-O", "ea_inode"],
    files: () => [...commonFiles(), ...eaInodeFiles()],
    csum: true,
  },
  { name: "ext2-128", mkfs: ["mkfs.ext2", "-b", "4096", "-I", "128"], files: ext4Files, csum: false },
];

/** This file's source: a change to the builder rebuilds the cached images. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

function buildImage(c: (typeof cases)[number]): XattrImage {
  const files = c.files();
  return cachedXattrImage(c.name, { mkfs: c.mkfs, files, SOURCE }, (img) => {
    const tmp = tempDir("ext4-xattr-");
    try {
      const src = join(tmp.dir, "src");
      mkdirSync(src);
      applyXattrs(src, files);
      const [mkfs, ...args] = c.mkfs;
      run(mkfs!, ["-q", "-F", ...args, "-d", src, img, "16M"]);
      return withLoopMount(img, "ro", kernelXattrs);
    } finally {
      tmp.cleanup();
    }
  });
}

for (const c of cases) {
  describe(`${c.name} extended attributes`, () => {
    let image: XattrImage | undefined;
    let source: FileSource | undefined;
    let fs: Ext4Filesystem;
    let paths: PathResolver;
    const skipReason = xattrToolsUnavailable();

    beforeAll(async () => {
      if (skipReason) {
        console.warn(`SKIPPED ${c.name} attribute tests: ${skipReason}`);
        return;
      }
      image = buildImage(c);
      source = await FileSource.open(image.path);
      fs = await openExt4(source);
      paths = new PathResolver(fs);
    });
    afterAll(() => source?.close());

    const ino = async (path: string) => (await paths.resolve(path)).ino;

    it("lists every path's attributes as the kernel does", async (ctx) => {
      if (!image) return ctx.skip();
      const mine = await readerXattrs(fs);
      expect(Object.keys(mine).sort()).toEqual(Object.keys(image.kernel).sort());
      for (const [path, attrs] of Object.entries(image.kernel)) expect(mine[path], path).toEqual(attrs);
      expect(mine["/acldir"]).toHaveProperty("system.posix_acl_default");
    });

    it("keeps attributes where the test means them to be (checked with debugfs)", async (ctx) => {
      if (!image) return ctx.skip();
      const stat = (path: string) => run("debugfs", ["-R", `stat ${path}`, image!.path]);
      // An SELinux label alone fits in a 256-byte inode; 128-byte inodes need the block.
      expect(/File ACL: (\d+)/.exec(stat("/etc/shadow"))![1] !== "0").toBe(c.name === "ext2-128");
      if (c.name === "ext4-1k-ea_inode") {
        // The three values larger than a 1 KiB block sit in inodes flagged EA_INODE (0x200000).
        const stats = run(
          "debugfs",
          ["-f", "-", image.path],
          Array.from({ length: 40 }, (_, i) => `stat <${i + 11}>`).join("\n"),
        );
        const flags = [...stats.matchAll(/Flags: 0x([0-9a-f]+)/g)].map((m) => Number.parseInt(m[1]!, 16));
        expect(flags.filter((f) => f & 0x200000)).toHaveLength(3);
      } else {
        expect(/File ACL: (\d+)/.exec(stat("/block"))![1]).not.toBe("0");
      }
    });

    it("finds one attribute by name", async (ctx) => {
      if (!image) return ctx.skip();
      const shadow = await ino("/etc/shadow");
      expect(await getXattr(fs, shadow, "security.selinux")).toEqual(label("shadow_t"));
      expect(await getXattr(fs, shadow, "user.none")).toBeUndefined();
      expect(await getXattr(fs, await ino("/small"), "user.empty")).toEqual(Buffer.alloc(0));
      // By path, through the resolver.
      expect(await paths.getXattr("/etc/sshd_config", "security.selinux")).toEqual(label("etc_t"));
      expect((await paths.listXattrs("/small")).map((x) => x.name)).toContain("trusted.b");
    });

    it("refuses a damaged attribute block", async (ctx) => {
      if (!image) return ctx.skip();
      const path = "/longname"; // a 250-byte name never fits in the inode
      const block = Number(/File ACL: (\d+)/.exec(run("debugfs", ["-R", `stat ${path}`, image.path]))![1]);
      const bs = fs.blockSize;
      const data = readFileSync(image.path);
      if (c.csum)
        data[block * bs + bs - 3]! ^= 0x40; // inside the values: only the checksum can tell
      else data.writeUInt32LE(0xdeadbeef, block * bs); // the magic
      const broken = await openExt4(new BufferSource(data));
      const target = await ino(path);
      await expect(broken.listXattrs(target)).rejects.toThrow(ImageFormatError);
      await expect(broken.listXattrs(target)).rejects.toThrow(c.csum ? /checksum mismatch/ : /bad magic/);
    });

    it.runIf(c.name === "ext4-4k")("ls -Z and --xattrs show them as ls -Z and getfattr do", async (ctx) => {
      if (!image) return ctx.skip();
      const z = await runCli(["ls", "-Z", `${image.path}:/etc`]);
      expect(z.code).toBe(0);
      expect(z.stdout).toMatch(/ system_u:object_r:shadow_t:s0 .* shadow\n/);
      expect(z.stdout).toMatch(/ system_u:object_r:etc_t:s0 .* sshd_config\n/);
      const none = await runCli(["ls", "-Z", `${image.path}:/none`]);
      expect(none.stdout).toMatch(/ \? .* \/none\n/);
      const x = await runCli(["ls", "--xattrs", `${image.path}:/small`]);
      const shown = x.stdout.split("\n").filter((l) => l.startsWith("    "));
      // Every attribute the kernel lists, text quoted and binary in hex as getfattr prints them.
      expect(shown.map((l) => l.trim().split("=")[0]).sort()).toEqual(
        Object.keys(image.kernel["/small"]!).sort(),
      );
      expect(shown).toContain('    user.a="1"');
      expect(shown).toContain("    security.c=0x00ff0a1b");
      expect(shown).toContain('    user.ünïcødé="名前"');
      expect(shown).toContain("    user.empty=0x");
      const json = JSON.parse((await runCli(["ls", "--xattrs", "--json", `${image.path}:/small`])).stdout);
      const values = Object.fromEntries(
        json[0].xattrs.map((a: { name: string; value: string }) => [a.name, `0x${a.value}`]),
      );
      expect(values).toEqual(image.kernel["/small"]);
    });

    it.runIf(c.csum)("refuses an in-inode attribute whose inode checksum does not match", async (ctx) => {
      if (!image) return ctx.skip();
      const imap = run("debugfs", ["-R", "imap /small", image.path]);
      const m = /located at block (\d+), offset (0x[0-9a-f]+)/.exec(imap)!;
      const at = Number(m[1]) * fs.blockSize + Number(m[2]);
      const data = readFileSync(image.path);
      const inodeSize = Number(/Inode size:\s+(\d+)/.exec(run("dumpe2fs", ["-h", image.path]))![1]);
      data[at + inodeSize - 2]! ^= 0x01; // the last value byte of the in-inode area
      const broken = await openExt4(new BufferSource(data));
      await expect(broken.listXattrs(await ino("/small"))).rejects.toThrow(/inode \d+: checksum mismatch/);
    });
  });
}
