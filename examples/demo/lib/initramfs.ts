/**
 * The demo guest's initramfs: Debian's static busybox, the kernel modules for a virtio disk with XFS/ext4,
 * and guest/init as /init, as a gzip'd newc cpio. Cached under .cache/demo-initramfs/ by kernel version,
 * init script, busybox and module files.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";
import { EnvironmentError } from "../../../src/errors.js";
import { type CpioEntry, writeCpio } from "./cpio.js";
import { findHostKernel, type HostKernel, type KernelModule, moduleClosure } from "./kernel.js";

export const INIT_SCRIPT = fileURLToPath(new URL("../guest/init", import.meta.url));
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL("../../../.cache/demo-initramfs/", import.meta.url));
export const BUSYBOX = "/bin/busybox";

/** Bump when the archive layout changes, so cached archives are rebuilt. */
const LAYOUT_VERSION = 1;

export interface InitramfsOptions {
  kernel?: HostKernel;
  initScript?: string;
  busybox?: string;
  cacheDir?: string;
}

export interface Initramfs {
  /** The gzip'd cpio archive, inside the cache. */
  path: string;
  kernel: HostKernel;
  /** Module file names (decompressed, .ko) in load order, as listed in /lib/modules/order. */
  modules: string[];
  /** True when the archive came from the cache. */
  cached: boolean;
}

/** True when an ELF executable has no PT_INTERP program header (needs no dynamic loader). */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) {
    return false; // not a 64-bit little-endian ELF
  }
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return false;
    if (bytes.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

/** A module file's bytes, decompressed (busybox insmod loads plain .ko only). */
export function readModule(path: string): Buffer {
  const raw = readFileSync(path);
  if (path.endsWith(".ko")) return raw;
  if (path.endsWith(".ko.gz")) return gunzipSync(raw);
  if (path.endsWith(".ko.zst")) return Buffer.from(zstdDecompress(raw));
  if (path.endsWith(".ko.xz")) return execFileSync("xz", ["-dc", path], { maxBuffer: 256 * 2 ** 20 });
  throw new EnvironmentError(
    `kernel module ${path} has an unknown compression (valid: .ko, .ko.gz, .ko.zst, .ko.xz)`,
  );
}

function moduleName(path: string): string {
  return basename(path).replace(/\.ko(\.(gz|zst|xz))?$/, ".ko");
}

function cacheKey(
  kernel: HostKernel,
  init: Buffer,
  busybox: string,
  modules: readonly KernelModule[],
): string {
  const stamp = (p: string) => {
    const st = statSync(p);
    return `${p}:${st.size}:${st.mtimeMs}`;
  };
  const recipe = {
    layout: LAYOUT_VERSION,
    kernel: kernel.version,
    init: createHash("sha256").update(init).digest("hex"),
    busybox: stamp(busybox),
    modules: modules.map((m) => `${stamp(m.path)}:${m.optional}`),
  };
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex");
}

function archiveEntries(init: Buffer, busybox: Buffer, modules: readonly KernelModule[]): CpioEntry[] {
  const entries: CpioEntry[] = [
    { kind: "dir", path: "bin" },
    { kind: "dir", path: "dev" },
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    { kind: "dir", path: "proc" },
    { kind: "dir", path: "sys" },
    { kind: "dir", path: "mnt" },
    { kind: "dir", path: "tmp", mode: 0o1777 },
    { kind: "dir", path: "lib" },
    { kind: "dir", path: "lib/modules" },
    { kind: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
  ];
  const order: string[] = [];
  for (const m of modules) {
    const name = moduleName(m.path);
    entries.push({ kind: "file", path: `lib/modules/${name}`, data: readModule(m.path) });
    order.push(m.optional ? `?${name}` : name);
  }
  entries.push({ kind: "file", path: "lib/modules/order", data: Buffer.from(`${order.join("\n")}\n`) });
  entries.push({ kind: "file", path: "init", data: init, mode: 0o755 });
  return entries;
}

/** Builds (or finds in the cache) the demo guest's initramfs for the host's newest kernel. */
export async function buildInitramfs(options: InitramfsOptions = {}): Promise<Initramfs> {
  const kernel = options.kernel ?? findHostKernel();
  const busyboxPath = options.busybox ?? BUSYBOX;
  if (!existsSync(busyboxPath)) {
    throw new EnvironmentError(`${busyboxPath} is missing (install: apt-get install busybox-static)`);
  }
  const init = readFileSync(options.initScript ?? INIT_SCRIPT);
  const modules = await moduleClosure(kernel);
  const names = modules.map((m) => moduleName(m.path));
  const dir = join(options.cacheDir ?? DEFAULT_CACHE_DIR, cacheKey(kernel, init, busyboxPath, modules));
  const path = join(dir, "initrd.cpio.gz");
  if (existsSync(path)) return { path, kernel, modules: names, cached: true };

  const busybox = readFileSync(busyboxPath);
  if (!isStaticElf(busybox)) {
    throw new EnvironmentError(
      `${busyboxPath} is not a static x86_64 executable (install: apt-get install busybox-static)`,
    );
  }
  const archive = gzipSync(writeCpio(archiveEntries(init, busybox, modules)), { level: 6 });
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, archive);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path, kernel, modules: names, cached: false };
}

/** Copies the archive to `dest` (atomically: a running QEMU may still hold the old one). */
export function installInitramfs(initramfs: Initramfs, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}`;
  copyFileSync(initramfs.path, tmp);
  renameSync(tmp, dest);
}
