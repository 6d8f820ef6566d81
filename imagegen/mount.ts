/**
 * Loop mounts of imagegen's own filesystem images (never anything else): to set extended attributes that
 * mkfs.xfs protofiles cannot carry, and to build defects into a copy of a clean filesystem.
 */
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./exec.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mounts the filesystem image `image` (xfs or ext4), runs `use` on the mount point, always unmounts. */
export async function withMounted<T>(
  image: string,
  fs: "xfs" | "ext4",
  use: (dir: string) => Promise<T> | T,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "imagegen-mnt-"));
  // nouuid: copies of one filesystem (same UUID) may be mounted at once by parallel builds
  const options = fs === "xfs" ? "loop,nouuid" : "loop";
  try {
    await run("mount", ["-t", fs, "-o", options, image, dir]);
    try {
      return await use(dir);
    } finally {
      await unmount(dir);
    }
  } finally {
    // never recursive: if the unmount failed, this must not delete what is mounted there
    rmdirSync(dir);
  }
}

/** umount, retried briefly while something still holds the mount (udev probing the loop device). */
async function unmount(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run("umount", [dir]);
      return;
    } catch (e) {
      if (attempt >= 20) throw e;
      await sleep(100);
    }
  }
}
