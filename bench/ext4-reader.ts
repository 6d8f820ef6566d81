/**
 * The ext4 reader on its own, for bench/ext4.bench.ts: `cat IMAGE PATH` prints a file found by walking
 * directories from the root; `walk IMAGE` reads every file and link. Prints bytes read to stderr.
 */
import { FileSource } from "../src/disk/source.js";
import { openExt4 } from "../src/fs/ext4/index.js";

const [mode, image, path] = process.argv.slice(2);
const source = await FileSource.open(image!);
const fs = await openExt4(source);

if (mode === "cat") {
  let ino = fs.rootIno;
  for (const name of path!.split("/").filter(Boolean)) {
    const e = (await fs.readDir(ino)).find((d) => d.name === name);
    if (!e) throw new Error(`${path}: not found`);
    ino = e.ino;
  }
  const st = await fs.stat(ino);
  process.stdout.write(await fs.read(ino, 0, st.size));
} else {
  let files = 0;
  let bytes = 0;
  const dirs = [fs.rootIno];
  while (dirs.length > 0) {
    for (const e of await fs.readDir(dirs.pop()!)) {
      const st = await fs.stat(e.ino);
      if (st.type === "dir") dirs.push(e.ino);
      else if (st.type === "symlink") await fs.readLink(e.ino);
      else if (st.type === "file") {
        files++;
        for (let off = 0; off < st.size; off += 1 << 20) {
          bytes += (await fs.read(e.ino, off, 1 << 20).catch(() => Buffer.alloc(0))).length;
        }
      }
    }
  }
  process.stdout.write(`${files} files, ${bytes} bytes\n`);
}
process.stderr.write(`bytesRead=${source.bytesRead}\n`);
await source.close();
