/**
 * A partition of a raw disk file, through a loop device limited to its byte range (this kernel scans no
 * partition tables on loop devices): made into a filesystem when asked, mounted, and always released.
 * Only the guest's own disk files are ever attached.
 */
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../imagegen/exec.js";

export interface Mounted {
  readonly dir: string;
  readonly device: string;
  unmount(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function loopMount(
  disk: string,
  range: { readonly start: number; readonly size: number },
  options: { readonly mkfs?: readonly string[]; readonly at?: string } = {},
): Promise<Mounted> {
  const { stdout } = await run("losetup", [
    "--find",
    "--show",
    "--offset",
    String(range.start),
    "--sizelimit",
    String(range.size),
    disk,
  ]);
  const device = stdout.trim();
  const ownDir = options.at === undefined;
  const dir = options.at ?? mkdtempSync(join(tmpdir(), "guestgen-mnt-"));
  const release = async () => {
    await run("losetup", ["-d", device]).catch(() => {});
    // never recursive: if the unmount failed, this must not delete what is mounted there
    if (ownDir) rmdirSync(dir);
  };
  try {
    if (options.mkfs) await run(options.mkfs[0]!, [...options.mkfs.slice(1), device]);
    // nouuid: copies of the guest (the same XFS UUIDs) may be mounted at once by parallel tests
    await run("mount", ["-o", "nouuid", device, dir]);
  } catch (e) {
    await release();
    throw e;
  }
  return {
    dir,
    device,
    async unmount() {
      for (let attempt = 0; ; attempt++) {
        try {
          await run("umount", [dir]);
          break;
        } catch (e) {
          if (attempt >= 20) throw e; // something still holds it (udev probing the device)
          await sleep(100);
        }
      }
      await release();
    },
  };
}
