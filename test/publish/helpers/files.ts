/** Test files and independent checksums (coreutils sha256sum, not our code). */
import { execFileSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const MiB = 1024 * 1024;

export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random bytes (AES-128-CTR keystream keyed by the seed), so failures reproduce. */
export function bytesFor(seed: string, size: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export function writeBytes(path: string, data: Buffer): string {
  writeFileSync(path, data);
  return path;
}

/** `sha256sum FILE` → hex. */
export function sha256sumOf(path: string): string {
  return execFileSync("sha256sum", [path], { encoding: "utf8" }).split(" ")[0]!;
}

export function sha256Hex(data: Buffer): string {
  return execFileSync("sha256sum", ["-"], { input: data, encoding: "utf8", maxBuffer: 1 << 20 }).split(
    " ",
  )[0]!;
}

/** Writes FILE.sha256sum with coreutils, in the pipeline's format (`<hex>  <name>`). */
export function writeSha256sum(dir: string, name: string): void {
  const text = execFileSync("sha256sum", [name], { cwd: dir, encoding: "utf8" });
  writeFileSync(join(dir, `${name}.sha256sum`), text);
}
