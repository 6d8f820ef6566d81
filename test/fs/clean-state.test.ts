/**
 * Filesystem.cleanState on filesystems the kernel left clean or dirty, against the reference tools:
 * XFS (log head found by cycle numbers, last record an unmount record or not) against xfs_logprint
 * and xfs_repair -n; ext2/ext4 (needs_recovery, state, recorded errors) against dumpe2fs.
 */
import { afterAll, describe, expect, it } from "vitest";
import { FileSource } from "../../src/disk/source.js";
import { openFilesystem } from "../../src/fs/probe.js";
import type { CleanState } from "../../src/fs/types.js";
import { EXT4_CASES, ext4CleanImage, XFS_CASES, xfsCleanImage } from "./clean-images.js";
import { loopMountUnavailable } from "./loop-images.js";

const unavailable = loopMountUnavailable(["xfs_io", "xfs_logprint", "xfs_repair", "dumpe2fs"]);
const opened: FileSource[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
});

async function cleanStateOf(path: string): Promise<{ state: CleanState; bytesRead: number }> {
  const source = await FileSource.open(path);
  opened.push(source);
  const fs = await openFilesystem(source);
  const before = source.bytesRead;
  const state = await fs.cleanState();
  return { state, bytesRead: source.bytesRead - before };
}

describe("XFS log state", () => {
  for (const name of Object.keys(XFS_CASES) as (keyof typeof XFS_CASES)[]) {
    const needsMount = XFS_CASES[name].mount;
    it(`${name}: agrees with xfs_logprint and xfs_repair -n`, async (ctx) => {
      if (needsMount && unavailable) return ctx.skip();
      const { path, answers } = xfsCleanImage(name);
      const { state, bytesRead } = await cleanStateOf(path);
      const reference = answers.logprint.state === "CLEAN" && !answers.replayAlert && !answers.lsnAhead;
      expect(state.clean, state.detail).toBe(reference);
      // The reference tools agree with each other, and each case has the state it was made for.
      expect(answers.replayAlert).toBe(answers.logprint.state === "DIRTY");
      expect(reference).toBe(!["shutdown", "wrapped-shutdown", "zeroed"].includes(name));
      if (state.clean && name !== "zeroed") {
        // The unmount record is a header block and one operation block, right before the head.
        const at = Number(/unmount record at log block (\d+)/.exec(state.detail)![1]);
        expect(at + 2).toBe(answers.logprint.head);
      }
      if (name.startsWith("wrapped")) {
        const cycle = Number(/cycle (\d+)/.exec(state.detail)![1]);
        expect(cycle, state.detail).toBeGreaterThanOrEqual(2);
      }
      if (name === "zeroed") expect(state.detail).toMatch(/log zeroed, but metadata was written/);
      // The head is found by sampling, plus the kernel's window of 8 iclogs: never the whole log.
      expect(bytesRead).toBeLessThanOrEqual(2.5 * 1024 * 1024);
    });
  }
});

describe("ext2/ext4 clean state", () => {
  for (const name of Object.keys(EXT4_CASES) as (keyof typeof EXT4_CASES)[]) {
    it(`${name}: agrees with dumpe2fs`, async (ctx) => {
      if (name !== "fresh" && unavailable) return ctx.skip();
      const { path, answers } = ext4CleanImage(name);
      const { state } = await cleanStateOf(path);
      const reference =
        answers.state === "clean" && !answers.features.includes("needs_recovery") && answers.errorCount === 0;
      expect(state.clean, state.detail).toBe(reference);
      expect(reference).toBe(name === "fresh");
      if (answers.features.includes("needs_recovery")) expect(state.detail).toMatch(/journal needs recovery/);
      if (answers.errorCount > 0)
        expect(state.detail).toMatch(/errors were recorded \(1 error, first at .* in \w+\)/);
      if (answers.state === "not clean") expect(state.detail).toMatch(/state is not clean/);
    });
  }
});
