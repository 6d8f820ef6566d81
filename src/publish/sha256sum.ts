/** coreutils `sha256sum` files: `<64 hex>  <name>` (text mode) or `<64 hex> *<name>` (binary mode). */
import { UsageError } from "../errors.js";
import { readInputFile } from "../files.js";
import { quoted } from "./validate.js";

export interface ChecksumLine {
  readonly sha256: string;
  readonly name: string;
}

const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

/** Parses every line; a line in another format is a UsageError naming the file. */
export function parseSha256sum(text: string, what = "checksum file"): ChecksumLine[] {
  const lines: ChecksumLine[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") continue;
    const m = LINE.exec(line);
    if (!m) throw new UsageError(`${what}: not a sha256sum line: ${quoted(line)}`);
    lines.push({ sha256: m[1]!.toLowerCase(), name: m[2]! });
  }
  return lines;
}

export function formatSha256sumLine(sha256: string, name: string): string {
  return `${sha256}  ${name}\n`;
}

/**
 * The SHA-256 that `FILE.sha256sum` (made by the pipeline's checksum step) records for `name`, or
 * undefined when there is no such file. A checksum file that does not list `name` is bad input.
 */
export async function readSidecarSha256(filePath: string, name: string): Promise<string | undefined> {
  const sumPath = `${filePath}.sha256sum`;
  let text: string;
  try {
    text = (await readInputFile(sumPath, { maxBytes: 1024 * 1024 })).toString("utf8");
  } catch (e) {
    if ((e as { cause?: NodeJS.ErrnoException }).cause?.code === "ENOENT") return undefined;
    throw e;
  }
  const entry = parseSha256sum(text, sumPath).find((l) => l.name === name);
  if (!entry) throw new UsageError(`${sumPath} has no checksum for ${quoted(name)}`);
  return entry.sha256;
}
