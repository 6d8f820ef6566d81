/** Helpers for the disk tests: run the real tools, make seeded content, read sources whole. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ByteSource } from "../../src/disk/source.js";
import { randomBytes, rng } from "../helpers/mutate.js";

/** Runs a tool and returns its stdout; throws with its stderr when it fails. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
  });
}

/** `qemu-img convert` of a raw file to qcow2, with extra options such as `-c` or `-o cluster_size=4096`. */
export function rawToQcow2(raw: string, out: string, ...options: string[]): void {
  run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", ...options, raw, out]);
}

/** Like run, but also returns a failing tool's output instead of throwing (busybox fdisk exits 1 on files). */
export function runAllowFail(cmd: string, args: readonly string[], input?: string): string {
  try {
    return run(cmd, args, input);
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "");
  }
}

export interface TempDir {
  readonly dir: string;
  path(name: string): string;
  remove(): void;
}

export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Disk content that exercises every kind of qcow2 cluster once converted: random (stored as is),
 * text (compresses well), zeros (left unallocated), and small islands of data in zeros.
 */
export function mixedContent(seed: number, size: number): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(size);
  const MiB = 1024 * 1024;
  let at = 0;
  let line = 0;
  const kinds = ["random", "text", "zero", "islands"] as const;
  let k = 0;
  while (at < size) {
    const kind = kinds[k++ % kinds.length]!;
    const len = Math.min(size - at, Math.floor(MiB / 4 + r() * MiB) + 1000);
    if (kind === "random") randomBytes(r, len).copy(out, at);
    else if (kind === "text") {
      let text = "";
      while (text.length < len)
        text += `line ${String(line++).padStart(8, "0")}: the quick brown fox ${r()}\n`;
      out.write(text.slice(0, len), at, "latin1");
    } else if (kind === "islands") {
      for (let i = 0; i < 8; i++) out[at + Math.floor(r() * len)] = 1 + Math.floor(r() * 255);
    }
    at += len;
  }
  return out;
}

/** The whole source, read in chunks of `chunk` bytes (deliberately not cluster-aligned by default). */
export async function readWhole(source: ByteSource, chunk = 1_000_003): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at < source.size; at += chunk)
    parts.push(await source.read(at, Math.min(chunk, source.size - at)));
  return Buffer.concat(parts);
}

/** sha256 of the whole source, streamed in chunks. */
export async function sha256Of(source: ByteSource, chunk = 8 * 1024 * 1024): Promise<string> {
  const h = createHash("sha256");
  for (let at = 0; at < source.size; at += chunk)
    h.update(await source.read(at, Math.min(chunk, source.size - at)));
  return h.digest("hex");
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
