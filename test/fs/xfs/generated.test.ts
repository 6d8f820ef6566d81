/**
 * Images made here with `mkfs.xfs -p protofile` (v4 and v5, block sizes 1 KiB to 64 KiB, directory
 * blocks up to 64 KiB, ftype on and off, nrext64): every directory form, deep paths, links, devices,
 * files of assorted sizes. Oracles: the tree that went in (names, bytes, modes, owners), xfs_db
 * (inode numbers, directory forms) and the clock around mkfs (times).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileSource } from "../../../src/disk/source.js";
import { PathNotFoundError } from "../../../src/errors.js";
import { PathResolver } from "../../../src/fs/path.js";
import type { InodeStat } from "../../../src/fs/types.js";
import { openXfs, type XfsFilesystem } from "../../../src/fs/xfs/index.js";
import { sha256Of, type WalkedEntry, walk } from "./helpers.js";
import {
  dir,
  type GeneratedImage,
  makeXfsImage,
  type TreeNode,
  xfsDbInode,
  xfsDbListings,
  xfsDbTimes,
} from "./mkfs.js";
import { GENERATED_CONFIGS, standardTree } from "./trees.js";

const TYPE_OF: Record<TreeNode["kind"], string> = {
  dir: "dir",
  file: "file",
  symlink: "symlink",
  blockdev: "blockdev",
  chardev: "chardev",
  fifo: "fifo",
};

function defaultMode(node: TreeNode): number {
  return node.mode ?? (node.kind === "dir" ? 0o755 : node.kind === "symlink" ? 0o777 : 0o644);
}

function* specPaths(node: TreeNode, path: string): Generator<[string, TreeNode]> {
  yield [path, node];
  if (node.kind !== "dir") return;
  for (const [name, child] of node.children)
    yield* specPaths(child, path === "/" ? `/${name}` : `${path}/${name}`);
}

/** Every difference between the tree that went in and what the reader reports for one path. */
async function diffAgainstSpec(
  fs: XfsFilesystem,
  path: string,
  spec: TreeNode,
  got: WalkedEntry | undefined,
  img: GeneratedImage,
  times: Map<number, { atime: number; mtime: number }>,
): Promise<string[]> {
  if (!got) return [`${path}: missing`];
  const s: InodeStat = got.stat;
  const diffs: string[] = [];
  const check = (field: string, want: unknown, have: unknown) => {
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      diffs.push(`${path}: ${field} expected ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
    }
  };
  check("type", TYPE_OF[spec.kind], s.type);
  check("mode", defaultMode(spec).toString(8), s.mode.toString(8));
  check("uid", spec.uid ?? 0, s.uid);
  check("gid", spec.gid ?? 0, s.gid);
  if (s.mtime < img.madeAfter || s.mtime > img.madeBefore)
    diffs.push(`${path}: mtime ${s.mtime} is outside mkfs's run`);
  const db = times.get(got.ino);
  if (db) {
    check("atime (xfs_db)", db.atime, s.atime);
    check("mtime (xfs_db)", db.mtime, s.mtime);
  }
  switch (spec.kind) {
    case "dir": {
      const want = [...spec.children.keys()].sort();
      const have = [...(got.names ?? [])].sort();
      check("entry names", want.length === have.length && want.every((n, i) => n === have[i]), true);
      const subdirs = [...spec.children.values()].filter((c) => c.kind === "dir").length;
      check("nlink", 2 + subdirs, s.nlink);
      break;
    }
    case "file": {
      check("nlink", 1, s.nlink);
      check("size", spec.content.length, s.size);
      const want = createHash("sha256").update(spec.content).digest("hex");
      // An odd chunk size makes every read straddle block boundaries.
      check("sha256", want, await sha256Of(fs, got.ino, s.size, 65537));
      for (const [off, len] of [
        [0, 1],
        [1, 4096],
        [4095, 3],
        [Math.floor(s.size / 2), 70000],
        [Math.max(0, s.size - 7), 100],
      ] as const) {
        const part = await fs.read(got.ino, off, len);
        check(`bytes at ${off}+${len}`, true, part.equals(spec.content.subarray(off, off + len)));
      }
      break;
    }
    case "symlink":
      check("target", spec.target, await fs.readLink(got.ino));
      check("size", Buffer.byteLength(spec.target), s.size);
      break;
    case "blockdev":
    case "chardev":
      check("rdev", [spec.major, spec.minor], s.rdev);
      break;
    case "fifo":
      check("rdev", undefined, s.rdev);
      break;
  }
  return diffs;
}

/** The on-disk form of a directory according to xfs_db: sf, block, leaf or node (plus the fork format). */
function directoryForm(image: string, ino: number, blockSize: number, dirBlockSize: number): string {
  const core = xfsDbInode(image, ino, ["core.format", "core.size"]);
  const format = core.get("core.format")!.replace(/^\d+ \((\w+)\)$/, "$1");
  if (format === "local") return "sf/local";
  const bmap = execFileSync("xfs_db", ["-r", "-c", `inode ${ino}`, "-c", "bmap", image], {
    encoding: "utf8",
  });
  const freeIndexOffset = (64 * 1024 ** 3) / blockSize;
  const offsets = [...bmap.matchAll(/data offset (\d+)/g)].map((m) => Number(m[1]));
  if (Number(core.get("core.size")) === dirBlockSize && offsets.every((o) => o < freeIndexOffset / 2)) {
    return `block/${format}`;
  }
  return `${offsets.some((o) => o >= freeIndexOffset) ? "node" : "leaf"}/${format}`;
}

for (const config of GENERATED_CONFIGS) {
  describe(`generated image ${config.name}`, () => {
    const tree = standardTree(config.scale, { remoteSymlinks: config.remoteSymlinks });
    let img: GeneratedImage;
    let source: FileSource;
    let fs: XfsFilesystem;
    let walked: Map<string, WalkedEntry>;

    beforeAll(async () => {
      img = makeXfsImage(config.name, config.options, config.size, tree);
      source = await FileSource.open(img.path);
      fs = await openXfs(source);
      walked = await walk(fs);
    });
    afterAll(() => source?.close());

    it("holds every directory form", () => {
      const forms = new Set<string>();
      for (const [name, entry] of walked) {
        if (
          entry.stat.type !== "dir" ||
          !["/empty", "/sf", "/block", "/leaf", "/node", "/btree"].includes(name)
        ) {
          continue;
        }
        forms.add(directoryForm(img.path, entry.ino, fs.blockSize, fs.superblock.dirBlockSize));
      }
      const layouts = new Set([...forms].map((f) => f.split("/")[0]));
      const formats = new Set([...forms].map((f) => f.split("/")[1]));
      expect([...layouts].sort()).toEqual(["block", "leaf", "node", "sf"]);
      expect([...formats].sort()).toEqual(["btree", "extents", "local"]);
    });

    it("reads back exactly the tree that went in", async () => {
      // xfs_db decodes the times of everything but the bulk directories' thousands of empty files.
      const sample = [...walked]
        .filter(([p]) => !/^\/(leaf|node|btree)\/./.test(p) || p.endsWith("0"))
        .map(([, e]) => e.ino);
      const times = xfsDbTimes(img.path, sample);
      const diffs: string[] = [];
      let n = 0;
      for (const [path, spec] of specPaths(tree, "/")) {
        n++;
        diffs.push(...(await diffAgainstSpec(fs, path, spec, walked.get(path), img, times)));
      }
      expect(diffs.slice(0, 20)).toEqual([]);
      expect(walked.size).toBe(n);
    });

    it("agrees with xfs_db on every directory entry's inode number", () => {
      const dirs = [...walked].filter(([, e]) => e.stat.type === "dir");
      const listings = xfsDbListings(
        img.path,
        dirs.map(([p]) => p),
      );
      const diffs: string[] = [];
      for (const [path, entry] of dirs) {
        const db = listings.get(path);
        if (!db) {
          diffs.push(`${path}: xfs_db did not list it`);
          continue;
        }
        if (db.size !== entry.names!.length)
          diffs.push(`${path}: xfs_db lists ${db.size}, we ${entry.names!.length}`);
        for (const name of entry.names!) {
          const child = walked.get(path === "/" ? `/${name}` : `${path}/${name}`)!;
          if (db.get(name) !== child.ino)
            diffs.push(`${path}/${name}: xfs_db ino ${db.get(name)}, we ${child.ino}`);
        }
      }
      expect(diffs.slice(0, 20)).toEqual([]);
    });

    it("reports the superblock's geometry", () => {
      const sb = execFileSync(
        "xfs_db",
        ["-r", "-c", "sb 0", "-c", "p blocksize rootino uuid dirblklog versionnum", img.path],
        { encoding: "utf8" },
      );
      const field = (f: string) => new RegExp(`^${f} = (.*)$`, "m").exec(sb)![1]!;
      expect(fs.blockSize).toBe(Number(field("blocksize")));
      expect(fs.rootIno).toBe(Number(field("rootino")));
      expect(fs.uuid).toBe(field("uuid"));
      expect(fs.superblock.dirBlockSize).toBe(fs.blockSize * 2 ** Number(field("dirblklog")));
      expect(fs.superblock.version).toBe(Number(field("versionnum")) & 0xf);
    });
  });
}

describe("a lookup on a 10 GiB filesystem", () => {
  it("reads /etc/os-release touching only a handful of blocks", async () => {
    const etc = new Map<string, TreeNode>();
    for (let i = 0; i < 300; i++)
      etc.set(`config-${i}.conf`, { kind: "file", content: Buffer.from(`value ${i}\n`) });
    const osRelease = Buffer.from('NAME="AlmaLinux"\nVERSION_ID="9.6"\nID="almalinux"\n');
    etc.set("os-release", { kind: "file", content: osRelease });
    const lib = new Map<string, TreeNode>();
    for (let i = 0; i < 4000; i++)
      lib.set(`libexample-${i}.so.1`, { kind: "file", content: Buffer.alloc(0) });
    const tree = dir({ etc: dir(etc), usr: dir({ lib64: dir(lib) }), var: dir({ log: dir({}) }) });
    const img = makeXfsImage("ten-gib", ["-b", "size=4096"], 10 * 1024 ** 3, tree);
    const source = await FileSource.open(img.path);
    try {
      const fs = await openXfs(source);
      const resolver = new PathResolver(fs);
      const found = await resolver.resolve("/etc/os-release");
      const data = await fs.read(found.ino, 0, found.stat.size);
      expect(data.equals(osRelease)).toBe(true);
      console.log(`lookup + read of /etc/os-release on a 10 GiB XFS read ${source.bytesRead} bytes`);
      // superblock, root inode block, /etc inode block and its directory blocks, the file's inode and data
      expect(source.bytesRead).toBeLessThanOrEqual(64 * 1024);
    } finally {
      await source.close();
    }
  });
});

describe("path lookup through src/fs/path.ts", () => {
  const config = GENERATED_CONFIGS[1];
  it("follows relative, absolute and chained symlinks and reports loops", async () => {
    const img = makeXfsImage(
      config.name,
      config.options,
      config.size,
      standardTree(config.scale, { remoteSymlinks: true }),
    );
    const source = await FileSource.open(img.path);
    try {
      const resolver = new PathResolver(await openXfs(source));
      const file = async (p: string) => (await resolver.resolve(p, { followFinal: false })).ino;
      expect((await resolver.resolve("/links/chain1")).ino).toBe(await file("/files/f1"));
      expect((await resolver.resolve("/links/absolute")).ino).toBe(await file("/files/f4096"));
      expect((await resolver.resolve("/links/short")).path).toBe("/files/f100");
      expect((await resolver.resolve("/deep/level0/level1/../level1/level2")).stat.type).toBe("dir");
      await expect(resolver.resolve("/links/loopA")).rejects.toThrow(PathNotFoundError);
      await expect(resolver.resolve("/links/dangling")).rejects.toThrow(PathNotFoundError);
      const max = await resolver.resolve("/links/max", { followFinal: false });
      expect(max.stat.size).toBe(1023);
    } finally {
      await source.close();
    }
  });
});
