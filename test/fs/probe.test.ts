// Filesystem recognition and FAT identity on filesystems made by mkfs, with blkid as the oracle.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectFilesystem, fatIdentity, PROBE_BYTES } from "../../src/fs/probe.js";
import { blkid } from "../helpers/blkid.js";

const work = mkdtempSync(join(tmpdir(), "fs-probe-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeFat(name: string, mib: number, args: string[]): Buffer {
  const path = join(work, name);
  execFileSync("truncate", ["-s", `${mib}M`, path]);
  execFileSync("mkfs.fat", [...args, path], { stdio: "ignore" });
  return readFileSync(path).subarray(0, PROBE_BYTES);
}

describe("FAT label and volume ID", () => {
  it.each([
    ["fat12", 4, ["-F", "12", "-n", "EFI", "-i", "0a0b0c0d"]],
    ["fat16", 64, ["-F", "16", "-n", "ESP-PART", "-i", "deadbeef"]],
    ["fat32", 300, ["-F", "32", "-n", "EFI SYSTEM", "-i", "00c0ffee"]],
  ])("%s reads as blkid sees it", (name, mib, args) => {
    const head = makeFat(name, mib as number, args as string[]);
    const seen = blkid(join(work, name));
    expect(detectFilesystem(head)).toBe(seen.TYPE);
    expect(fatIdentity(head)).toEqual({ label: seen.LABEL, uuid: seen.UUID });
  });

  it("a FAT without a label has only its volume ID", () => {
    const head = makeFat("nolabel", 64, ["-F", "16", "-i", "12345678"]);
    expect(blkid(join(work, "nolabel")).LABEL).toBeUndefined();
    expect(fatIdentity(head)).toEqual({ uuid: "1234-5678" });
  });

  it("anything else has no FAT identity", () => {
    execFileSync("truncate", ["-s", "300M", join(work, "xfs")]);
    execFileSync("mkfs.xfs", ["-q", "-f", "-L", "EFI", join(work, "xfs")]);
    expect(fatIdentity(readFileSync(join(work, "xfs")).subarray(0, PROBE_BYTES))).toEqual({});
    expect(fatIdentity(Buffer.alloc(PROBE_BYTES))).toEqual({});
  });
});
