/**
 * On-disk structures made on purpose with debugfs: deep extent trees, fragmented block maps, unwritten
 * extents over stale data, punched holes, timestamps past 2038 and before 1970; the directory hash
 * against e2fsprogs; and how few bytes a lookup in a 10 GiB filesystem reads.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileSource } from "../../../src/disk/source.js";
import { dirHash, HASH_HALF_MD4, HASH_LEGACY, HASH_TEA } from "../../../src/fs/ext4/hash.js";
import { openExt4 } from "../../../src/fs/ext4/index.js";
import { cachedImage, runAsync } from "./images.js";
import { prng } from "./tree.js";
import { openImage, run, sha256, sha256Of, tempDir } from "./util.js";

const tmp = tempDir("ext4-struct-");
afterAll(() => tmp.cleanup());

const debugfs = (img: string, cmd: string) => run("debugfs", ["-R", cmd, img]);

/** Looks a path up component by component through readDir (no symlinks involved). */
async function lookup(fs: Awaited<ReturnType<typeof openExt4>>, path: string): Promise<number> {
  let ino = fs.rootIno;
  for (const name of path.split("/").filter(Boolean)) {
    const e = (await fs.readDir(ino)).find((d) => d.name === name);
    if (!e) throw new Error(`${path}: ${name} not found`);
    ino = e.ino;
  }
  return ino;
}

/**
 * A 1 KiB-block filesystem of 1200 one-block files, every other one removed, then a 700000-byte file
 * written with debugfs: it lands in the ~600 gaps, one block per extent (or block-map run).
 */
function fragmentedRecipe(extents: boolean) {
  return { kind: "fragmented", extents, files: 1200, big: 700000, seed: 11 };
}
const bigBytes = prng(11)(700000);

async function buildFragmented(img: string, extents: boolean): Promise<void> {
  const dir = join(tmp.dir, `frag-src-${extents}`);
  mkdirSync(join(dir, "tree"), { recursive: true });
  const rand = prng(3);
  for (let i = 0; i < 1200; i++)
    writeFileSync(join(dir, "tree", `f${String(i).padStart(4, "0")}`), rand(1000));
  writeFileSync(join(dir, "big"), bigBytes);
  const features = extents ? ["-O", "^64bit"] : ["-O", "^extent,^64bit"];
  await runAsync("mkfs.ext4", ["-q", "-F", "-b", "1024", ...features, "-d", join(dir, "tree"), img, "16M"]);
  const cmds = [];
  for (let i = 0; i < 1200; i += 2) cmds.push(`rm /f${String(i).padStart(4, "0")}`);
  cmds.push(`write ${join(dir, "big")} /frag`);
  writeFileSync(join(dir, "cmds"), `${cmds.join("\n")}\n`);
  await runAsync("debugfs", ["-w", "-f", join(dir, "cmds"), img]);
}

describe("fragmented files", () => {
  it("reads a file whose extent tree is two levels deep (about 600 extents)", async () => {
    const img = await cachedImage(fragmentedRecipe(true), (img) => buildFragmented(img, true));
    const ex = debugfs(img, "ex /frag");
    expect(ex).toMatch(/^\s*2\/\s*2\s/m); // leaves at depth 2
    expect(ex.split("\n").filter((l) => /^\s*2\/\s*2\s/.test(l)).length).toBeGreaterThan(500);
    const { fs, source } = await openImage(img);
    const ino = await lookup(fs, "/frag");
    expect(await sha256Of(fs, ino, 700000, 4096)).toBe(sha256(bigBytes));
    expect(await sha256Of(fs, ino, 700000, 333333)).toBe(sha256(bigBytes));
    await source.close();
  });

  it("reads a fragmented block-mapped file (single and double indirect runs)", async () => {
    const img = await cachedImage(fragmentedRecipe(false), (img) => buildFragmented(img, false));
    const st = debugfs(img, "stat /frag");
    expect(st).toContain("(DIND)");
    expect(st).not.toContain("EXTENTS");
    const { fs, source } = await openImage(img);
    const ino = await lookup(fs, "/frag");
    expect(await sha256Of(fs, ino, 700000, 4096)).toBe(sha256(bigBytes));
    expect(await sha256Of(fs, ino, 700000, 1 << 20)).toBe(sha256(bigBytes));
    await source.close();
  });
});

describe("holes and unwritten extents", () => {
  const data = prng(21)(300000);
  const recipe = { kind: "punch-fallocate", seed: 21, size: 300000 };

  it("reads punched blocks and unwritten extents (over stale data) as zeros", async () => {
    const img = await cachedImage(recipe, async (img) => {
      const dir = join(tmp.dir, "pf");
      mkdirSync(join(dir, "tree"), { recursive: true });
      writeFileSync(join(dir, "data"), data);
      await runAsync("mkfs.ext4", ["-q", "-F", "-b", "1024", "-d", join(dir, "tree"), img, "16M"]);
      // fallocate into punched ranges reuses the freed blocks, which still hold the old bytes.
      const cmds = [
        "write",
        "punch /pf 10 19",
        "punch /pf 250 260",
        "fallocate /pf 12 15",
        "fallocate /pf 255 258",
      ];
      cmds[0] = `write ${join(dir, "data")} /pf`;
      writeFileSync(join(dir, "cmds"), `${cmds.join("\n")}\n`);
      await runAsync("debugfs", ["-w", "-f", join(dir, "cmds"), img]);
    });
    expect(debugfs(img, "ex /pf").match(/Uninit/g)?.length).toBe(2);
    const want = Buffer.from(data);
    want.fill(0, 10 * 1024, 20 * 1024);
    want.fill(0, 250 * 1024, 261 * 1024);
    const { fs, source } = await openImage(img);
    const ino = await lookup(fs, "/pf");
    expect((await fs.stat(ino)).size).toBe(300000);
    expect((await fs.read(ino, 0, 300000)).equals(want)).toBe(true);
    for (const [off, len] of [
      [11 * 1024 + 5, 9000],
      [254 * 1024, 8 * 1024],
      [9 * 1024 + 1000, 12 * 1024],
    ] as const) {
      expect((await fs.read(ino, off, len)).equals(want.subarray(off, off + len)), `${off}+${len}`).toBe(
        true,
      );
    }
    await source.close();
  });
});

describe("timestamps", () => {
  // [mtime, atime] in seconds, set with debugfs; the extra field's epoch bits carry what 32 bits cannot.
  const times: Record<string, [number, number]> = {
    t2038: [2 ** 31, 2 ** 31 - 1],
    t2255: [9000000000, 4294967296 + 5],
    tmax: [3 * 2 ** 32 + 2 ** 31 - 1, 0],
    t1906: [-2000000000, -86400],
    tmin: [-(2 ** 31), 1],
  };

  it("decodes the extra epoch bits (after 2038) and negative times (before 1970)", async () => {
    const img = await cachedImage({ kind: "times", times }, async (img) => {
      const dir = join(tmp.dir, "times");
      mkdirSync(dir, { recursive: true });
      for (const name of Object.keys(times)) writeFileSync(join(dir, name), name);
      await runAsync("mkfs.ext4", ["-q", "-F", "-I", "256", "-d", dir, img, "8M"]);
      const cmds = Object.entries(times).flatMap(([n, [m, a]]) => [
        `sif /${n} mtime @${m}`,
        `sif /${n} atime @${a}`,
      ]);
      writeFileSync(join(dir, "..", "times-cmds"), `${cmds.join("\n")}\n`);
      await runAsync("debugfs", ["-w", "-f", join(dir, "..", "times-cmds"), img]);
    });
    expect(debugfs(img, "stat /t2255")).toContain("mtime: 0x18711a00:00000002");
    const { fs, source } = await openImage(img);
    for (const [name, [mtime, atime]] of Object.entries(times)) {
      const st = await fs.stat(await lookup(fs, `/${name}`));
      expect({ name, mtime: st.mtime, atime: st.atime }).toEqual({ name, mtime, atime });
    }
    await source.close();
  });
});

describe("directory hash", () => {
  const names = [
    "hello",
    "a-very-long-filename-that-exceeds-thirty-two-bytes-for-sure.txt",
    "x",
    "0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0",
  ];
  const seed = "61268908-8b97-43f5-9c86-9ad315f99695";
  const seedWords = [0, 1, 2, 3].map((i) => Buffer.from(seed.replace(/-/g, ""), "hex").readUInt32LE(4 * i));

  it("equals debugfs dx_hash (signed chars), with and without a seed", async () => {
    const img = join(tmp.dir, "hash.img");
    run("mkfs.ext4", ["-q", "-F", img, "4M"]);
    for (const [alg, version] of [
      ["legacy", HASH_LEGACY],
      ["half_md4", HASH_HALF_MD4],
      ["tea", HASH_TEA],
    ] as const) {
      for (const name of names) {
        for (const s of [undefined, seed]) {
          const out = debugfs(img, `dx_hash -h ${alg}${s ? ` -s ${s}` : ""} ${name}`);
          const [, hash, minor] = /is (0x[0-9a-f]+) \(minor (0x[0-9a-f]+)\)/.exec(out)!;
          const h = dirHash(Buffer.from(name), version, s ? seedWords : [0, 0, 0, 0], false);
          expect({ alg, name, s, hash: h.hash, minor: h.minor }).toEqual({
            alg,
            name,
            s,
            hash: Number(hash),
            minor: Number(minor),
          });
        }
      }
    }
  });

  it("equals the hashes e2fsck -D stored for non-ASCII names, signed and unsigned", async () => {
    for (const unsigned of [false, true]) {
      for (const [alg, version] of [
        ["half_md4", HASH_HALF_MD4],
        ["tea", HASH_TEA],
        ["legacy", HASH_LEGACY],
      ] as const) {
        const dir = join(tmp.dir, `h-${alg}-${unsigned}`);
        mkdirSync(join(dir, "tree", "d"), { recursive: true });
        // Bytes >= 0x80 are where signed and unsigned chars differ.
        const fileNames = Array.from({ length: 120 }, (_, i) =>
          Buffer.concat([Buffer.from([0x6e, 0xe9, 0xff, 0x80 + (i % 100)]), Buffer.from(String(i))]),
        );
        for (const n of fileNames)
          writeFileSync(Buffer.concat([Buffer.from(join(dir, "tree", "d", "/")), n]), "");
        const img = join(dir, "h.img");
        run("mkfs.ext4", ["-q", "-F", "-b", "1024", "-d", join(dir, "tree"), img, "8M"]);
        run("debugfs", ["-w", "-R", `ssv flags ${unsigned ? 2 : 1}`, img]);
        run("debugfs", ["-w", "-R", `ssv def_hash_version ${alg}`, img]);
        await runAsync("e2fsck", ["-fyD", img]).catch(() => {});
        const sb = run("dumpe2fs", ["-h", img]);
        const hashSeed = /Directory Hash Seed:\s+(\S+)/.exec(sb)![1]!.replace(/-/g, "");
        const words = [0, 1, 2, 3].map((i) => Buffer.from(hashSeed, "hex").readUInt32LE(4 * i));
        // debugfs computes each entry's hash with e2fsprogs' own code (and the unsigned flag).
        const dump = execFileSync("debugfs", ["-R", "htree_dump /d", img], {
          stdio: ["ignore", "pipe", "ignore"],
        }).toString("latin1");
        expect(dump).toContain(`Hash Version: ${version}`);
        let compared = 0;
        for (const n of fileNames) {
          const shown = n.toString("latin1");
          const m = new RegExp(
            `\\d+ 0x([0-9a-f]+)-([0-9a-f]+) \\(\\d+\\) ${escapeRegExp(shown)}(?=\\s|$)`,
          ).exec(dump);
          expect(m, `${alg} ${unsigned} ${n.toString("hex")}`).not.toBeNull();
          const h = dirHash(n, version, words, unsigned);
          expect([h.hash, h.minor]).toEqual([Number.parseInt(m![1]!, 16), Number.parseInt(m![2]!, 16)]);
          compared++;
        }
        expect(compared).toBe(120);
      }
    }
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("a lookup in a 10 GiB filesystem", () => {
  it("reads a handful of small blocks to find and read /etc/os-release", async () => {
    const osRelease = 'NAME="AlmaLinux"\nVERSION="9.6 (Sage Margay)"\nID="almalinux"\n';
    const img = await cachedImage({ kind: "lookup-10g", osRelease }, async (img) => {
      const dir = join(tmp.dir, "look");
      mkdirSync(join(dir, "etc"), { recursive: true });
      for (let i = 0; i < 300; i++) writeFileSync(join(dir, "etc", `file${i}`), String(i));
      writeFileSync(join(dir, "etc", "os-release"), osRelease);
      await runAsync("mkfs.ext4", [
        "-q",
        "-F",
        "-E",
        "lazy_itable_init=1,lazy_journal_init=1",
        "-d",
        dir,
        img,
        "10G",
      ]);
    });
    const file = await FileSource.open(img);
    expect(file.size).toBe(10 * 1024 ** 3);
    let reads = 0;
    const counted = {
      size: file.size,
      read: (o: number, l: number) => {
        reads++;
        return file.read(o, l);
      },
    };
    const fs = await openExt4(counted);
    const ino = await lookup(fs, "/etc/os-release");
    const st = await fs.stat(ino);
    expect((await fs.read(ino, 0, st.size)).toString()).toBe(osRelease);
    // superblock, descriptor block, inode table blocks, two directory blocks, the file: no bitmaps, no scans.
    expect(reads).toBeLessThanOrEqual(10);
    expect(file.bytesRead).toBeLessThanOrEqual(64 * 1024);
    await file.close();
  });
});
