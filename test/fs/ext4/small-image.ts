/**
 * Small ext2/3/4 images for the bad-input and fuzz tests, with every structure worth corrupting: an
 * htree directory, a file with a one-level extent tree (or indirect blocks), fast and slow symlinks,
 * inline data, extended attributes in the inode and in an attribute block. `metadataRegions` finds their metadata blocks with dumpe2fs and debugfs.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Region } from "../../helpers/mutate.js";
import { cachedImage, fsck, runAsync } from "./images.js";
import { prng } from "./tree.js";
import { run, tempDir } from "./util.js";

export type SmallKind = "extents" | "indirect" | "inline";

const MKFS: Record<SmallKind, string[]> = {
  extents: ["mkfs.ext4", "-b", "1024", "-O", "64bit,metadata_csum"],
  indirect: ["mkfs.ext3", "-b", "1024"],
  inline: ["mkfs.ext4", "-b", "1024", "-O", "inline_data"],
};

export const FILES = ["/file", "/frag", "/sub/deep/file", "/small"];
export const DIRS = ["/", "/dir", "/sub", "/sub/deep"];

export function smallImage(kind: SmallKind): Promise<string> {
  return cachedImage(
    { kind: "small", variant: kind, mkfs: MKFS[kind], size: "4M", xattrs: 1 },
    async (img) => {
      const tmp = tempDir("ext4-small-");
      try {
        const src = join(tmp.dir, "src");
        const rand = prng(99);
        mkdirSync(join(src, "dir"), { recursive: true });
        mkdirSync(join(src, "sub", "deep"), { recursive: true });
        for (let i = 0; i < 150; i++)
          writeFileSync(join(src, "dir", `name-${i}-${"z".repeat(i % 30)}`), String(i));
        writeFileSync(join(src, "file"), rand(50000));
        writeFileSync(join(src, "sub", "deep", "file"), rand(3000));
        writeFileSync(join(src, "small"), "tiny");
        for (let i = 0; i < 40; i++) writeFileSync(join(src, `pad${i}`), rand(1000));
        // Attributes in the inode (a label) and in an attribute block (too large for the inode).
        await runAsync("setfattr", [
          "-n",
          "security.selinux",
          "-v",
          "system_u:object_r:etc_t:s0",
          join(src, "file"),
        ]);
        for (let i = 0; i < 4; i++) {
          await runAsync("setfattr", [
            "-n",
            `user.big${i}`,
            "-v",
            `0x${rand(100).toString("hex")}`,
            join(src, "small"),
          ]);
        }
        symlinkSync("file", join(src, "sym_fast"));
        symlinkSync(`${"s/".repeat(50)}file`, join(src, "sym_slow"));
        writeFileSync(join(tmp.dir, "frag"), rand(30000));
        const [mkfs, ...args] = MKFS[kind];
        await runAsync(mkfs!, ["-q", "-F", ...args, "-d", src, img, "4M"]);
        // Free every other 1-block file, then write /frag into the gaps: about 20 extents (an index node).
        const cmds = Array.from({ length: 20 }, (_, i) => `rm /pad${2 * i}`);
        cmds.push(`write ${join(tmp.dir, "frag")} /frag`);
        writeFileSync(join(tmp.dir, "cmds"), `${cmds.join("\n")}\n`);
        await runAsync("debugfs", ["-w", "-f", join(tmp.dir, "cmds"), img]);
        await fsck(img, true);
        await fsck(img, false);
      } finally {
        tmp.cleanup();
      }
    },
  );
}

/** Byte ranges of the image's metadata, located with e2fsprogs (not with the code under test). */
export function metadataRegions(img: string): Region[] {
  const dump = run("dumpe2fs", [img]);
  const bs = Number(/Block size:\s+(\d+)/.exec(dump)![1]);
  const blocks = (name: string, first: number, last = first) => ({
    name,
    start: first * bs,
    end: (last + 1) * bs,
  });
  const regions: Region[] = [{ name: "superblock", start: 1024, end: 2048 }];
  const gd = /Primary superblock at \d+, Group descriptors at (\d+)-(\d+)/.exec(dump)!;
  regions.push(blocks("group descriptors", Number(gd[1]), Number(gd[2])));
  const it = /Inode table at (\d+)-(\d+)/.exec(dump)!;
  // The used inodes sit at the start of group 0's table.
  regions.push({ name: "inode table", start: Number(it[1]) * bs, end: Number(it[1]) * bs + 64 * 1024 });
  for (const path of [...DIRS, ...FILES, "/sym_slow"]) {
    const stat = run("debugfs", ["-R", `stat ${path}`, img]);
    for (const m of stat.matchAll(/\((ETB\d+|IND|DIND|TIND)\):(\d+)/g)) {
      regions.push(blocks(`${m[1]} of ${path}`, Number(m[2])));
    }
    const acl = Number(/File ACL: (\d+)/.exec(stat)?.[1] ?? 0);
    if (acl !== 0) regions.push(blocks(`attribute block of ${path}`, acl));
    if (DIRS.includes(path)) {
      const list = run("debugfs", ["-R", `blocks ${path}`, img]).trim();
      for (const b of list.split(/\s+/).filter(Boolean))
        regions.push(blocks(`directory block of ${path}`, Number(b)));
    }
  }
  return regions;
}

export function readImage(img: string): Buffer {
  return readFileSync(img);
}
