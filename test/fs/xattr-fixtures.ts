/**
 * Trees labelled with extended attributes, and the kernel as their oracle. Attributes are set by the
 * real tools (`setfattr --restore`, `setfacl`) on a loop-mounted filesystem or on a host directory
 * that `mkfs.ext4 -d` copies, and read back by `getfattr` from a mount of the finished image.
 * Images and the kernel's answers are cached under .cache/xattr (see loop-images.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Filesystem } from "../../src/fs/types.js";
import { cachedToolImage, loopMountUnavailable } from "./loop-images.js";
import { seededBytes } from "./xfs/mkfs.js";

/** This file's source: a change to the trees rebuilds the cached images. */
const FIXTURES_SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

export interface XattrFile {
  /** Path below the tree's root, without a leading slash. */
  readonly path: string;
  readonly dir?: boolean;
  /** Attributes in the order they are set; a later group of the same file may interleave with others. */
  readonly attrs: readonly (readonly [name: string, value: Buffer])[];
  /** `setfacl -m` and `setfacl -d -m` arguments. */
  readonly acl?: string;
  readonly defaultAcl?: string;
}

/** name → hex value of every attribute of every path that has any (path "/" is the root). */
export type KernelXattrs = Record<string, Record<string, string>>;

/** An SELinux label as the kernel stores it: NUL-terminated. */
export const label = (type: string) => Buffer.from(`system_u:object_r:${type}:s0\0`);

const many = (prefix: string, n: number, size: number, seed: number) =>
  Array.from({ length: n }, (_, i) => [`${prefix}${i}`, seededBytes(seed + i, size)] as const);

/** The attribute set that every reader must get right, whatever the filesystem. */
export function commonFiles(): XattrFile[] {
  return [
    { path: "etc", dir: true, attrs: [["security.selinux", label("etc_t")]] },
    { path: "etc/shadow", attrs: [["security.selinux", label("shadow_t")]] },
    { path: "etc/sshd_config", attrs: [["security.selinux", label("etc_t")]] },
    { path: "none", attrs: [] },
    {
      path: "small",
      attrs: [
        ["user.a", Buffer.from("1")],
        ["trusted.b", Buffer.from("two")],
        ["security.c", Buffer.from([0, 0xff, 0x0a, 0x1b])],
        ["user.empty", Buffer.alloc(0)],
        ["user.ünïcødé", Buffer.from("名前")],
      ],
    },
    { path: "longname", attrs: [[`user.${"n".repeat(250)}`, Buffer.from("longest name")]] },
    { path: "acl", attrs: [["user.x", Buffer.from("y")]], acl: "u:1000:rw,g:50:r" },
    { path: "acldir", dir: true, attrs: [], acl: "u:7:rwx", defaultAcl: "u:1000:rwx,g:50:rx" },
  ];
}

/**
 * XFS forms: short form, one leaf block, a dabtree of many leaves, remote values (up to the 64 KiB
 * maximum) in leaf and node forms, and an attribute fork fragmented into an extent B+tree by setting
 * remote values alternately on two files.
 */
export function xfsFiles(blockSize: number): XattrFile[] {
  // A short attribute first: xfsprogs 6.1's attr_set (the v4 images) crashes when an inode's first
  // attribute is a remote one.
  const interleaved: XattrFile[] = ["fragmented", "partner"].map((path) => ({
    path,
    attrs: [["user.first", Buffer.from("1")]],
  }));
  for (let i = 0; i < 70; i++) {
    for (const path of ["fragmented", "partner"]) {
      interleaved.push({ path, attrs: [[`user.frag${i}`, seededBytes(900_000 + i, blockSize - 100)]] });
    }
  }
  return [
    ...commonFiles(),
    // Beyond the inode's short form, within one leaf block.
    { path: "leaf", attrs: many("user.leaf", blockSize === 1024 ? 8 : 30, 60, 1000) },
    { path: "node", attrs: many("user.node", 400, 80, 2000) },
    {
      path: "remote",
      attrs: [
        ["user.tiny", Buffer.from("t")],
        ["user.r10k", seededBytes(3, 10_000)],
        ["security.r3k", seededBytes(4, 3000)],
        ["user.r64k", seededBytes(5, 65536)],
      ],
    },
    {
      path: "noderemote",
      attrs: [...many("user.nr", 200, 40, 3000), ...many("trusted.big", 10, 2500, 4000)],
    },
    { path: "attrdir", dir: true, attrs: many("user.d", 50, 50, 5000) },
    ...interleaved,
  ];
}

/** ext4: attributes in the inode only, in the block only, split between both. */
export function ext4Files(): XattrFile[] {
  return [
    ...commonFiles(),
    { path: "block", attrs: many("user.blk", 12, 150, 6000) },
    { path: "both", attrs: [["user.s", Buffer.from("s")], ...many("user.big", 2, 900, 7000)] },
    { path: "bigdir", dir: true, attrs: many("trusted.t", 5, 300, 8000) },
  ];
}

/** ext4 with ea_inode and 1 KiB blocks: values larger than a block go to their own inodes. */
export function eaInodeFiles(): XattrFile[] {
  return [
    {
      path: "eainode",
      attrs: [
        ["user.small", Buffer.from("s")],
        ["user.huge", seededBytes(9, 3000)],
      ],
    },
    {
      path: "two",
      attrs: [
        ["user.h1", seededBytes(10, 2000)],
        ["security.h2", seededBytes(11, 1500)],
      ],
    },
  ];
}

function hex(b: Buffer): string {
  return `0x${b.toString("hex")}`;
}

/** Creates the files under `root` and sets their attributes and ACLs with setfattr and setfacl. */
export function applyXattrs(root: string, files: readonly XattrFile[]): void {
  const made = new Set<string>();
  const sections: string[] = [];
  for (const f of files) {
    const abs = join(root, f.path);
    if (!made.has(f.path)) {
      made.add(f.path);
      mkdirSync(f.dir ? abs : dirname(abs), { recursive: true });
      if (!f.dir) writeFileSync(abs, `content of ${f.path}\n`);
    }
    if (f.attrs.length > 0) {
      sections.push(`# file: ${abs}\n${f.attrs.map(([n, v]) => `${n}=${hex(v)}\n`).join("")}`);
    }
  }
  const dump = join(root, "..", `xattrs-${process.pid}.dump`);
  writeFileSync(dump, `${sections.join("\n")}\n`);
  try {
    execFileSync("setfattr", [`--restore=${dump}`], { stdio: "pipe" });
  } finally {
    rmSync(dump, { force: true });
  }
  for (const f of files) {
    if (f.acl) execFileSync("setfacl", ["-m", f.acl, join(root, f.path)]);
    if (f.defaultAcl) execFileSync("setfacl", ["-d", "-m", f.defaultAcl, join(root, f.path)]);
  }
}

/** getfattr's quoting: bytes outside printable ASCII (and backslash) as backslash-octal escapes. */
function unquote(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const m = /^\\([0-7]{3})/.exec(text.slice(i, i + 4));
    if (m) {
      bytes.push(Number.parseInt(m[1]!, 8));
      i += 3;
    } else bytes.push(...Buffer.from(text[i]!));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** What the kernel reports for every path under `root` (`getfattr -R -d -m - -e hex`). */
export function kernelXattrs(root: string): KernelXattrs {
  const text = execFileSync(
    "getfattr",
    ["-R", "-P", "-d", "-m", "-", "-e", "hex", "--absolute-names", root],
    {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    },
  );
  const out: KernelXattrs = {};
  let current: Record<string, string> | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("# file: ")) {
      const path = unquote(line.slice(8));
      if (!path.startsWith(root)) throw new Error(`getfattr printed a path outside ${root}: ${path}`);
      current = {};
      out[path.slice(root.length) || "/"] = current;
    } else if (line !== "" && current) {
      const eq = line.indexOf("=");
      if (eq < 0) throw new Error(`unexpected getfattr line: ${line}`);
      current[unquote(line.slice(0, eq))] = line.slice(eq + 1);
    }
  }
  return out;
}

export interface XattrImage {
  readonly path: string;
  readonly kernel: KernelXattrs;
}

/** The image `recipe` describes, from the cache or built by `build(imagePath)` (the kernel's view). */
export function cachedXattrImage(
  name: string,
  recipe: unknown,
  build: (image: string) => KernelXattrs,
): XattrImage {
  const { path, answers } = cachedToolImage("xattr", name, { recipe, fixtures: FIXTURES_SOURCE }, build);
  return { path, kernel: answers };
}

/** Why these tests cannot run here, or undefined. */
export function xattrToolsUnavailable(): string | undefined {
  return loopMountUnavailable(["setfattr", "getfattr", "setfacl"]);
}

/** Every path of `fs` with its attributes as name → hex, for comparison with the kernel's view. */
export async function readerXattrs(fs: Filesystem): Promise<KernelXattrs> {
  const out: KernelXattrs = {};
  const visit = async (path: string, ino: number) => {
    const attrs = await fs.listXattrs(ino);
    if (attrs.length > 0) out[path] = Object.fromEntries(attrs.map((a) => [a.name, hex(a.value)]));
    if ((await fs.stat(ino)).type !== "dir") return;
    for (const e of await fs.readDir(ino))
      await visit(path === "/" ? `/${e.name}` : `${path}/${e.name}`, e.ino);
  };
  await visit("/", fs.rootIno);
  return out;
}
