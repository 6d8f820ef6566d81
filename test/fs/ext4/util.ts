/** Shared helpers for the ext4 tests: opening images, walking trees, hashing file contents. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileSource } from "../../../src/disk/source.js";
import { type Ext4Filesystem, openExt4 } from "../../../src/fs/ext4/index.js";
import type { Filesystem, InodeStat } from "../../../src/fs/types.js";

export const DATA = new URL("../../data/ext4/", import.meta.url).pathname;

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    input,
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 1 << 28,
  });
}

export async function openImage(path: string): Promise<{ fs: Ext4Filesystem; source: FileSource }> {
  const source = await FileSource.open(path);
  return { fs: await openExt4(source), source };
}

export interface WalkedEntry {
  readonly ino: number;
  readonly stat: InodeStat;
  /** Directories: the names of their entries. */
  readonly names?: string[];
}

/** Every path below the root, with its stat (and names for directories). */
export async function walk(fs: Filesystem): Promise<Map<string, WalkedEntry>> {
  const out = new Map<string, WalkedEntry>();
  const visit = async (path: string, ino: number): Promise<void> => {
    const stat = await fs.stat(ino);
    if (stat.type !== "dir") {
      out.set(path, { ino, stat });
      return;
    }
    const entries = await fs.readDir(ino);
    out.set(path, { ino, stat, names: entries.map((e) => e.name) });
    for (const e of entries) await visit(path === "/" ? `/${e.name}` : `${path}/${e.name}`, e.ino);
  };
  await visit("/", fs.rootIno);
  return out;
}

/** sha256 of a file's contents, read through `fs.read` in `chunk`-byte pieces. */
export async function sha256Of(fs: Filesystem, ino: number, size: number, chunk = 65536): Promise<string> {
  const h = createHash("sha256");
  for (let off = 0; off < size; off += chunk) {
    const buf = await fs.read(ino, off, chunk);
    if (buf.length !== Math.min(chunk, size - off)) throw new Error(`short read at ${off}: ${buf.length}`);
    h.update(buf);
  }
  // Past the end: nothing.
  if ((await fs.read(ino, size, 10)).length !== 0) throw new Error("read past the end returned data");
  return h.digest("hex");
}

/** The answer files' names_sha256: byte-sorted names, each followed by a newline. */
export function namesSha256(names: readonly string[]): string {
  const sorted = names.map((n) => Buffer.from(n)).sort(Buffer.compare);
  const h = createHash("sha256");
  for (const n of sorted) h.update(Buffer.concat([n, Buffer.from("\n")]));
  return h.digest("hex");
}

export function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}
