/**
 * Names that are not valid UTF-8 on XFS (written through the kernel) and ext4 (copied by mkfs.ext4 -d):
 * readDir keeps their raw bytes, the resolver finds each by its escaped form even when two of them
 * decode to the same text, and listChecked lists a directory whose one entry has a damaged inode.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FileSource } from "../../src/disk/source.js";
import { PathResolver } from "../../src/fs/path.js";
import { openFilesystem } from "../../src/fs/probe.js";
import { escapeTerminal } from "../../src/text.js";
import { cachedToolImage, loopMountUnavailable, withLoopMount } from "./loop-images.js";
import { SMALL_FS_ENV } from "./xfs/mkfs.js";

const NAMES = [
  Buffer.from([0x61, 0xff]),
  Buffer.from([0x61, 0xfe]),
  Buffer.from([0xef, 0xbb, 0xbf, 0x62, 0x6f, 0x6d]), // a leading BOM, valid UTF-8, kept
  Buffer.from("ctl\x1b\x07"),
  Buffer.from("plain"),
];

function populate(dir: string): void {
  for (const [i, n] of NAMES.entries())
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), n]), `file ${i}\n`);
  writeFileSync(join(dir, "victim"), "x\n");
}

/** This file's source: a change to a builder rebuilds its cached image. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

const images = {
  xfs: () =>
    cachedToolImage("names", "xfs", { SOURCE }, (img) => {
      execFileSync("truncate", ["-s", "64M", img]);
      execFileSync("mkfs.xfs", ["-q", "-f", img], { env: SMALL_FS_ENV, stdio: "pipe" });
      const victim = withLoopMount(img, "noatime", (mnt) => {
        populate(mnt);
        return Number(execFileSync("stat", ["-c", "%i", join(mnt, "victim")], { encoding: "utf8" }));
      });
      execFileSync("xfs_db", ["-x", "-c", `inode ${victim}`, "-c", "write -d core.magic 0", img], {
        stdio: "pipe",
      });
      return null;
    }).path,
  ext4: () =>
    cachedToolImage("names", "ext4", { SOURCE }, (img) => {
      const src = `${img}.src`;
      mkdirSync(src);
      populate(src);
      execFileSync("mkfs.ext4", ["-q", "-F", "-d", src, img, "8M"]);
      execFileSync("rm", ["-rf", src]);
      execFileSync("debugfs", ["-w", "-R", "clri /victim", img], { stdio: "pipe" });
      return null;
    }).path,
};

for (const [kind, make] of Object.entries(images)) {
  describe(`${kind} names`, () => {
    it("keeps raw bytes, finds each name by its escaped form, and lists around a damaged inode", async (ctx) => {
      if (kind === "xfs" && loopMountUnavailable()) return ctx.skip();
      const source = await FileSource.open(make());
      try {
        const fs = await openFilesystem(source);
        const paths = new PathResolver(fs);
        const entries = await fs.readDir(fs.rootIno);
        for (const [i, n] of NAMES.entries()) {
          const e = entries.find((x) => (x.rawName ?? Buffer.from(x.name)).equals(n));
          expect(e, n.toString("hex")).toBeDefined();
          expect(e!.rawName !== undefined, n.toString("hex")).toBe(i < 2);
          const found = await paths.resolve(`/${escapeTerminal(n)}`);
          expect((await fs.read(found.ino, 0, 100)).toString()).toBe(`file ${i}\n`);
        }
        // Both invalid names decode to "a\uFFFD": only the escaped forms tell them apart.
        expect(entries.filter((e) => e.name === "a\uFFFD")).toHaveLength(2);

        const listed = await paths.listChecked("/");
        const victim = listed.find((e) => e.name === "victim")!;
        expect(victim.stat).toBeUndefined();
        expect(victim.error).toMatch(kind === "xfs" ? /checksum mismatch|bad magic/ : /unknown file type/);
        expect(listed.filter((e) => e.stat !== undefined).length).toBeGreaterThanOrEqual(NAMES.length);
        await expect(paths.list("/")).rejects.toThrow(victim.error!);
      } finally {
        await source.close();
      }
    });
  });
}
