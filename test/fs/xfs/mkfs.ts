/**
 * Generated XFS fixtures: a tree described in memory is turned into an `mkfs.xfs -p` protofile and
 * formatted into an image file, cached under .cache/xfs by a hash of the recipe. Nothing is mounted.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CACHE } from "./helpers.js";

interface Owner {
  /** Permission bits (0o777) plus 0o4000 setuid and 0o2000 setgid; sticky is not representable. */
  mode?: number;
  uid?: number;
  gid?: number;
}
export type TreeNode =
  | (Owner & { kind: "dir"; children: Map<string, TreeNode> })
  | (Owner & { kind: "file"; content: Buffer })
  | (Owner & { kind: "symlink"; target: string })
  | (Owner & { kind: "blockdev" | "chardev"; major: number; minor: number })
  | (Owner & { kind: "fifo" });

export function dir(children: Record<string, TreeNode> | Map<string, TreeNode>, owner: Owner = {}): TreeNode {
  return {
    kind: "dir",
    ...owner,
    children: children instanceof Map ? children : new Map(Object.entries(children)),
  };
}

/** Deterministic pseudo-random bytes (xorshift32), so the same recipe always yields the same content. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const TYPE_CHAR = { dir: "d", file: "-", symlink: "l", blockdev: "b", chardev: "c", fifo: "p" } as const;

function modeString(node: TreeNode): string {
  const m = node.mode ?? (node.kind === "dir" ? 0o755 : node.kind === "symlink" ? 0o777 : 0o644);
  return `${TYPE_CHAR[node.kind]}${m & 0o4000 ? "u" : "-"}${m & 0o2000 ? "g" : "-"}${(m & 0o777).toString(8).padStart(3, "0")}`;
}

/** Writes the protofile for `root`; regular file contents go to `dataDir` (one host file per content). */
function protofile(root: TreeNode, dataDir: string): string {
  const lines = ["fixture", "0 0", `${modeString(root)} ${root.uid ?? 0} ${root.gid ?? 0}`];
  const written = new Map<string, string>();
  const contentPath = (content: Buffer) => {
    const key = createHash("sha256").update(content).digest("hex");
    let path = written.get(key);
    if (!path) {
      path = join(dataDir, key);
      writeFileSync(path, content);
      written.set(key, path);
    }
    return path;
  };
  const emit = (node: TreeNode, depth: number) => {
    if (node.kind !== "dir") throw new Error("emit expects a directory");
    for (const [name, child] of node.children) {
      if (/[\s:]/.test(name)) throw new Error(`name not representable in a protofile: ${name}`);
      const head = `${" ".repeat(depth)}${name} ${modeString(child)} ${child.uid ?? 0} ${child.gid ?? 0}`;
      switch (child.kind) {
        case "dir":
          lines.push(head);
          emit(child, depth + 1);
          lines.push(`${" ".repeat(depth)}$`);
          break;
        case "file":
          lines.push(`${head} ${contentPath(child.content)}`);
          break;
        case "symlink":
          lines.push(`${head} ${child.target}`);
          break;
        case "blockdev":
        case "chardev":
          lines.push(`${head} ${child.major} ${child.minor}`);
          break;
        case "fifo":
          lines.push(head);
          break;
      }
    }
  };
  emit(root, 1);
  lines.push("$");
  return `${lines.join("\n")}\n`;
}

export interface GeneratedImage {
  path: string;
  /** Unix seconds just before and just after mkfs ran: every inode's times fall inside. */
  madeAfter: number;
  madeBefore: number;
}

/** mkfs refuses filesystems under 300 MB unless it believes it runs under fstests. */
export const SMALL_FS_ENV = { ...process.env, TEST_DIR: "/tmp", TEST_DEV: "/dev/null", QA_CHECK_FS: "1" };

function mkfsVersion(): string {
  return execFileSync("mkfs.xfs", ["-V"], { encoding: "utf8" }).trim();
}

/**
 * Formats `root` into a sparse image of `size` bytes with extra mkfs.xfs `options`, cached by the
 * recipe (`name`, options, size, tree, mkfs version).
 */
export function makeXfsImage(
  name: string,
  options: readonly string[],
  size: number,
  root: TreeNode,
): GeneratedImage {
  const dataDir = mkdtempSync(join(tmpdir(), "xfs-proto-"));
  try {
    const proto = protofile(root, dataDir);
    // Content file paths change per run; hash the proto with them replaced by the content hashes.
    const recipe = proto.replaceAll(dataDir, "DATA");
    const key = createHash("sha256")
      .update(JSON.stringify({ name, options, size, mkfs: mkfsVersion(), recipe, v: 1 }))
      .digest("hex")
      .slice(0, 20);
    mkdirSync(CACHE, { recursive: true });
    // One directory per image holding the image and its times, renamed into place whole, so that
    // test files building the same image in parallel never pair one's image with the other's times.
    const entry = join(CACHE, `gen-${name}-${key}`);
    const path = join(entry, "fs.img");
    const metaPath = join(entry, "made.json");
    if (existsSync(metaPath)) {
      return { path, ...(JSON.parse(readFileSync(metaPath, "utf8")) as Omit<GeneratedImage, "path">) };
    }
    const protoPath = join(dataDir, "proto");
    writeFileSync(protoPath, proto);
    const staging = `${entry}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    const tmpImage = join(staging, "fs.img");
    execFileSync("truncate", ["-s", String(size), tmpImage]);
    const madeAfter = Math.floor(Date.now() / 1000) - 1;
    execFileSync("mkfs.xfs", ["-q", "-f", ...options, "-p", protoPath, tmpImage], {
      env: SMALL_FS_ENV,
      stdio: "pipe",
    });
    const madeBefore = Math.ceil(Date.now() / 1000) + 1;
    writeFileSync(join(staging, "made.json"), JSON.stringify({ madeAfter, madeBefore }));
    try {
      renameSync(staging, entry);
    } catch {
      // Another process finished first: use its image.
      rmSync(staging, { recursive: true, force: true });
      return { path, ...(JSON.parse(readFileSync(metaPath, "utf8")) as Omit<GeneratedImage, "path">) };
    }
    return { path, madeAfter, madeBefore };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Inode number of every entry of the directories at `paths`, as xfs_db lists them (no . and ..). */
export function xfsDbListings(image: string, paths: readonly string[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  // Batches keep each xfs_db command line short.
  for (let i = 0; i < paths.length; i += 200) {
    const batch = paths.slice(i, i + 200);
    const args = ["-r", ...batch.flatMap((p) => ["-c", `echo @@@ ${p}`, "-c", `ls ${p}`]), image];
    const text = execFileSync("xfs_db", args, { encoding: "utf8", maxBuffer: 1 << 30 });
    let current: Map<string, number> | undefined;
    for (const line of text.split("\n")) {
      if (line.startsWith("@@@ ")) {
        current = new Map();
        out.set(line.slice(4).trim(), current);
        continue;
      }
      // offset  ino  type  hash  namelen  name
      const m = /^\s*\d+\s+(\d+)\s+\S+\s+0x[0-9a-f]+\s+(\d+)\s(.*)$/.exec(line);
      if (!m || !current) continue;
      const name = m[3]!.replace(/ \(\w+\)$/, "");
      if (name === "." || name === "..") continue;
      current.set(name, Number(m[1]));
    }
  }
  return out;
}

/** Raw `xfs_db -c "inode N" -c "p FIELD..."` output lines as a field → value map. */
export function xfsDbInode(image: string, ino: number, fields: readonly string[]): Map<string, string> {
  const text = execFileSync("xfs_db", ["-r", "-c", `inode ${ino}`, "-c", `p ${fields.join(" ")}`, image], {
    encoding: "utf8",
  });
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf(" = ");
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 3).trim());
  }
  return out;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** xfs_db's "Thu Nov 26 08:05:36 2026" (printed in UTC with TZ=UTC) as Unix seconds. */
function parseXfsDbDate(text: string): number {
  const m = /^\w{3} (\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d) (-?\d+)$/.exec(text.trim());
  if (!m) throw new Error(`unexpected xfs_db date: ${text}`);
  const month = MONTHS.indexOf(m[1]!);
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

/** atime and mtime (Unix seconds) of each inode, as xfs_db decodes them. */
export function xfsDbTimes(
  image: string,
  inos: readonly number[],
): Map<number, { atime: number; mtime: number }> {
  const out = new Map<number, { atime: number; mtime: number }>();
  for (let i = 0; i < inos.length; i += 300) {
    const batch = inos.slice(i, i + 300);
    const args = [
      "-r",
      ...batch.flatMap((n) => ["-c", `inode ${n}`, "-c", "p core.atime.sec core.mtime.sec"]),
      image,
    ];
    const text = execFileSync("xfs_db", args, { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    const values = [...text.matchAll(/^core\.(atime|mtime)\.sec = (.*)$/gm)].map((m) =>
      parseXfsDbDate(m[2]!),
    );
    if (values.length !== batch.length * 2)
      throw new Error(`xfs_db printed ${values.length} times for ${batch.length} inodes`);
    for (const [k, ino] of batch.entries())
      out.set(ino, { atime: values[2 * k]!, mtime: values[2 * k + 1]! });
  }
  return out;
}
