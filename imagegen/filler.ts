/**
 * Bulk data for big images: host files (binaries and libraries under /usr/lib, so compression behaves as
 * on a real system) concatenated in sorted path order into 8 MiB blobs under /usr/lib/filler.
 * mkfs.xfs reads each protofile source whole into memory, hence blobs and not one huge file; small ones
 * are markedly faster here (fresh large buffers cost page faults).
 */
import { closeSync, type Dirent, mkdirSync, openSync, readdirSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";

const BLOB = 8 * 1024 * 1024;
const SOURCE = "/usr/lib";

/** Regular files under `dir`, depth first in name order; symlinks and special files are skipped. */
function* hostFiles(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* hostFiles(p);
    else if (e.isFile()) yield p;
  }
}

/** Writes `mib` MiB of filler into `root`/usr/lib/filler; returns the number of blobs. */
export function writeFiller(root: string, mib: number, source = SOURCE): number {
  if (mib <= 0) return 0;
  const outDir = join(root, "usr/lib/filler");
  mkdirSync(outDir, { recursive: true });
  const total = mib * 1024 * 1024;
  const buf = Buffer.alloc(1 << 20);
  let written = 0;
  let blob = 0;
  let out = -1;
  let inBlob = BLOB;
  const emit = (n: number) => {
    let off = 0;
    while (off < n && written < total) {
      if (inBlob === BLOB) {
        if (out >= 0) closeSync(out);
        out = openSync(join(outDir, `blob.${String(blob++).padStart(3, "0")}`), "w");
        inBlob = 0;
      }
      const take = Math.min(n - off, BLOB - inBlob, total - written);
      writeSync(out, buf, off, take);
      off += take;
      inBlob += take;
      written += take;
    }
  };
  try {
    // host data may run out (small containers): go round again, never loop on an empty source
    while (written < total) {
      const before = written;
      for (const f of hostFiles(source)) {
        let fd: number;
        try {
          fd = openSync(f, "r");
        } catch {
          continue;
        }
        try {
          for (;;) {
            const n = readSync(fd, buf, 0, buf.length, null);
            if (n <= 0) break;
            emit(n);
            if (written >= total) break;
          }
        } catch {
          // unreadable: skip the rest of it
        } finally {
          closeSync(fd);
        }
        if (written >= total) break;
      }
      if (written === before) {
        buf.fill(0x5a);
        while (written < total) emit(buf.length);
      }
    }
  } finally {
    if (out >= 0) closeSync(out);
  }
  return blob;
}
