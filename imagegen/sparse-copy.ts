/**
 * Copies a sparse file into another file at an offset, touching only the source's data: the data/hole map
 * comes from lseek(SEEK_DATA/SEEK_HOLE) via `xfs_io -c 'seek -a -r 0'` (Node has no lseek), and all-zero
 * chunks inside data segments are skipped too. Reading a 10 GiB hole here costs ~20 s; the map, nothing.
 */
import { open, stat } from "node:fs/promises";
import { EnvironmentError } from "../src/errors.js";
import { run } from "./exec.js";

export interface Segment {
  start: number;
  end: number;
}

const CHUNK = 1 << 20;

/** Parses `xfs_io -c 'seek -a -r 0'` output ("DATA\t0", "HOLE\t131072", ...) into data segments. */
export function parseSeekMap(output: string, fileSize: number): Segment[] {
  const marks: { data: boolean; offset: number }[] = [];
  for (const line of output.split("\n")) {
    const m = /^(DATA|HOLE)\s+(\d+)\s*$/.exec(line.trim());
    if (m) marks.push({ data: m[1] === "DATA", offset: Number(m[2]) });
  }
  const segments: Segment[] = [];
  for (let i = 0; i < marks.length; i++) {
    const mark = marks[i]!;
    if (!mark.data) continue;
    const end = Math.min(marks[i + 1]?.offset ?? fileSize, fileSize);
    if (end > mark.offset) segments.push({ start: mark.offset, end });
  }
  return segments;
}

export async function dataSegments(file: string): Promise<Segment[]> {
  const { size } = await stat(file);
  if (size === 0) return [];
  const { stdout } = await run("xfs_io", ["-r", "-c", "seek -a -r 0", file]);
  // an empty map would copy nothing, silently: refuse output without xfs_io's header
  if (!/^Whence\s+Result/m.test(stdout)) {
    throw new EnvironmentError(
      `imagegen: xfs_io gave no seek map for ${file} (output: ${JSON.stringify(stdout.slice(0, 80))})`,
    );
  }
  return parseSeekMap(stdout, size);
}

/**
 * Writes the data of `src` into `dst` at byte offset `dstOffset`. The destination range must read as
 * zeros beforehand (a freshly truncated file): skipped holes and zero chunks are not written.
 * Returns the number of bytes written.
 */
export async function sparseCopy(src: string, dst: string, dstOffset: number): Promise<number> {
  const segments = await dataSegments(src);
  const input = await open(src, "r");
  const output = await open(dst, "r+");
  const buf = Buffer.alloc(CHUNK);
  const zero = Buffer.alloc(CHUNK);
  let written = 0;
  try {
    for (const seg of segments) {
      for (let pos = seg.start; pos < seg.end; pos += CHUNK) {
        const want = Math.min(CHUNK, seg.end - pos);
        const { bytesRead } = await input.read(buf, 0, want, pos);
        if (bytesRead !== want) throw new EnvironmentError(`imagegen: short read from ${src} at byte ${pos}`);
        const chunk = buf.subarray(0, want);
        if (chunk.equals(zero.subarray(0, want))) continue;
        await output.write(chunk, 0, want, dstOffset + pos);
        written += want;
      }
    }
  } finally {
    await input.close();
    await output.close();
  }
  return written;
}
