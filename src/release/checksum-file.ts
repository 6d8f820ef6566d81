/**
 * The per-folder `CHECKSUM`: `HASH  NAME` lines as coreutils `sha256sum` prints them (so
 * `sha256sum -c CHECKSUM` works), each preceded by a `# NAME: SIZE bytes` comment as Fedora's CHECKSUM
 * files carry (sha256sum skips lines starting with `#`). The sizes are covered by the signature too.
 */
import { UsageError } from "../errors.js";
import { formatSha256sumLine } from "../publish/sha256sum.js";
import { quoted } from "../publish/validate.js";

export interface ChecksumEntry {
  readonly name: string;
  readonly sha256: string;
  /** Bytes; absent in CHECKSUM files without size comments. */
  readonly size?: number | undefined;
}

/** Sorted by name (byte order), one comment and one line per file. */
export function formatChecksumFile(entries: readonly ChecksumEntry[]): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  let text = "";
  for (const [i, e] of sorted.entries()) {
    if (i > 0 && sorted[i - 1]!.name === e.name) throw new UsageError(`${quoted(e.name)} is listed twice`);
    if (!/^[0-9a-f]{64}$/.test(e.sha256)) throw new UsageError(`invalid SHA-256 for ${quoted(e.name)}`);
    if (/[\n\r\\]/.test(e.name)) throw new UsageError(`invalid file name ${quoted(e.name)}`);
    if (e.size !== undefined) text += `# ${e.name}: ${e.size} bytes\n`;
    text += formatSha256sumLine(e.sha256, e.name);
  }
  return text;
}

const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;
const SIZE_COMMENT = /^# (.+): ([0-9]+) bytes$/;

/**
 * Reads a CHECKSUM (ours, or any `sha256sum` output with or without size comments). Other comment
 * lines are ignored, as sha256sum ignores them; a line in another format is a UsageError naming it.
 */
export function parseChecksumFile(text: string, what = "CHECKSUM"): ChecksumEntry[] {
  const sizes = new Map<string, number>();
  const entries: ChecksumEntry[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = SIZE_COMMENT.exec(line);
      if (m) sizes.set(m[1]!, Number(m[2]));
      continue;
    }
    const m = LINE.exec(line);
    if (!m) throw new UsageError(`${what} line ${i + 1} is not a sha256sum line: ${quoted(line)}`);
    const name = m[2]!;
    if (seen.has(name)) throw new UsageError(`${what} lists ${quoted(name)} twice`);
    seen.add(name);
    entries.push({ name, sha256: m[1]!.toLowerCase(), size: sizes.get(name) });
  }
  return entries;
}
