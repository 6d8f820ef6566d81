/** Shared helpers for the XFS tests: cached fixtures, a tree walker over the Filesystem interface. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Filesystem, InodeStat } from "../../../src/fs/types.js";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
export const DATA = join(REPO, "test/data/xfs");
export const CACHE = join(REPO, ".cache/xfs");

export interface ExpectedEntry {
  path: string;
  type: string;
  size: number;
  mode: string;
  ino: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  sha256?: string | null;
  all_hole?: boolean;
  target?: string;
  rdev?: [number, number];
  entries?: number;
  names_sha256?: string;
}

export interface Expected {
  image_sha256: string;
  image_size: number;
  superblock: { blocksize: number; rootino: number; uuid: string; dirblksize: number };
  entries: ExpectedEntry[];
}

export function loadExpected(name: string): Expected {
  return JSON.parse(readFileSync(join(DATA, `${name}.expected.json`), "utf8")) as Expected;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** The decompressed real fixture `name` (e.g. "xfs4096.img"), cached under .cache/xfs by its sha256. */
export async function realFixture(name: string, expected: Expected): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${expected.image_sha256}.img`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync("zstd", ["-d", "-q", "-f", join(DATA, `${name}.zst`), "-o", tmp]);
  const sum = await sha256File(tmp);
  if (sum !== expected.image_sha256) {
    rmSync(tmp, { force: true });
    throw new Error(
      `${name}: decompressed sha256 ${sum} differs from the answer file's ${expected.image_sha256}`,
    );
  }
  renameSync(tmp, out);
  return out;
}

export interface WalkedEntry {
  ino: number;
  stat: InodeStat;
  /** Names in a directory (without . and ..). */
  names?: string[];
}

/** Every path reachable from the root by readDir, with its stat; "/" is the root. */
export async function walk(fs: Filesystem): Promise<Map<string, WalkedEntry>> {
  const out = new Map<string, WalkedEntry>();
  const queue: string[] = ["/"];
  out.set("/", { ino: fs.rootIno, stat: await fs.stat(fs.rootIno) });
  while (queue.length > 0) {
    const path = queue.shift()!;
    const dir = out.get(path)!;
    const entries = await fs.readDir(dir.ino);
    dir.names = entries.map((e) => e.name);
    for (const e of entries) {
      const child = path === "/" ? `/${e.name}` : `${path}/${e.name}`;
      const stat = await fs.stat(e.ino);
      out.set(child, { ino: e.ino, stat });
      if (stat.type === "dir") queue.push(child);
    }
  }
  return out;
}

/** sha256 of the byte-sorted names, each followed by "\n" (the answer files' names_sha256). */
export function namesSha256(names: readonly string[]): string {
  const sorted = names.map((n) => Buffer.from(n)).sort(Buffer.compare);
  const h = createHash("sha256");
  for (const n of sorted) h.update(Buffer.concat([n, Buffer.from("\n")]));
  return h.digest("hex");
}

/** sha256 of a file's contents read through `fs.read` in chunks. */
export async function sha256Of(
  fs: Filesystem,
  ino: number,
  size: number,
  chunk = 1024 * 1024,
): Promise<string> {
  const h = createHash("sha256");
  for (let off = 0; off < size; off += chunk) {
    const buf = await fs.read(ino, off, chunk);
    if (buf.length !== Math.min(chunk, size - off)) throw new Error(`short read at ${off}: ${buf.length}`);
    h.update(buf);
  }
  return h.digest("hex");
}
