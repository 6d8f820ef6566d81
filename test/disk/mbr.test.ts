// MBR disks made by busybox fdisk (primary, extended and logical partitions), compared with its own
// listing; looping EBR chains, overlaps, partitions past the end, hybrid MBRs.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImage } from "../../src/disk/image.js";
import { mbrTypeName, type PartitionTable, readPartitionTable } from "../../src/disk/partitions.js";
import { ImageFormatError } from "../../src/errors.js";
import { run, runAllowFail, type TempDir, tempDir } from "./tools.js";

let tmp: TempDir;
beforeAll(() => {
  tmp = tempDir("disk-mbr");
});
afterAll(() => tmp.remove());

/** busybox fdisk, driven by its interactive commands (it exits 1 on files: it cannot re-read the table). */
function fdisk(path: string, size: string, commands: string[]): string {
  run("truncate", ["-s", size, path]);
  runAllowFail("busybox", ["fdisk", "-u", path], `${commands.join("\n")}\n`);
  return path;
}

interface FdiskRow {
  number: number;
  bootable: boolean;
  firstLba: number;
  lastLba: number;
  sectors: number;
  mbrType: number;
}

/** busybox fdisk -l -u: the oracle. */
function fdiskList(path: string): FdiskRow[] {
  const out = runAllowFail("busybox", ["fdisk", "-l", "-u", path]);
  const rows: FdiskRow[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*\S+?(\d+)\s+(\*?)\s+\S+\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+([0-9a-f]+)\s/.exec(line);
    if (m) {
      rows.push({
        number: Number(m[1]),
        bootable: m[2] === "*",
        firstLba: Number(m[3]),
        lastLba: Number(m[4]),
        sectors: Number(m[5]),
        mbrType: Number.parseInt(m[6]!, 16),
      });
    }
  }
  return rows;
}

async function table(path: string): Promise<PartitionTable> {
  const img = await openImage(path);
  try {
    return await readPartitionTable(img.source);
  } finally {
    await img.close();
  }
}

function poke(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

const LAYOUT = [
  ...["o"],
  ...["n", "p", "1", "2048", "+8M"],
  ...["n", "p", "2", "18432", "+8M", "t", "2", "82"],
  ...["a", "1"],
  ...["n", "e", "3", "34816", "+30M"],
  ...["n", "l", "36864", "+4M"],
  ...["n", "l", "47104", "+4M", "t", "6", "8e"],
  ...["n", "l", "57344", "+4M"],
  "w",
];

describe("MBR disks made by busybox fdisk", () => {
  let disk: string;
  beforeAll(() => {
    disk = fdisk(tmp.path("mbr.img"), "64M", LAYOUT);
  });

  it("reads primary, extended and logical partitions as fdisk lists them", async () => {
    const oracle = fdiskList(disk);
    expect(oracle.map((r) => r.number)).toEqual([1, 2, 3, 5, 6, 7]);
    const t = await table(disk);
    expect(t.kind).toBe("mbr");
    expect(t.warnings).toEqual([]);
    expect(t.diskGuid).toBeUndefined();
    expect(
      t.partitions.map((p) => ({
        number: p.number,
        bootable: p.bootable,
        firstLba: p.firstLba,
        lastLba: p.lastLba,
        sectors: p.size / 512,
        mbrType: p.mbrType,
      })),
    ).toEqual(oracle);
    for (const p of t.partitions) {
      expect(p.start).toBe(p.firstLba * 512);
      expect(p.typeName).toBe(mbrTypeName(p.mbrType!));
    }
    expect(t.partitions.map((p) => p.typeName)).toEqual([
      "Linux",
      "Linux swap / Solaris",
      "Extended",
      "Linux",
      "Linux LVM",
      "Linux",
    ]);
  });

  it("stops a looping EBR chain with a warning", async () => {
    const path = tmp.path("loop.img");
    writeFileSync(path, readFileSync(disk));
    // The second EBR's link entry points back at the first EBR (relative offset 0).
    const ext = 34816;
    const secondEbr = ext + readFileSync(path).readUInt32LE(ext * 512 + 446 + 16 + 8);
    const link = Buffer.alloc(16);
    link[4] = 0x05;
    link.writeUInt32LE(0, 8);
    link.writeUInt32LE(2048, 12);
    poke(path, secondEbr * 512 + 446 + 16, link);
    const t = await table(path);
    expect(t.partitions.map((p) => p.number)).toEqual([1, 2, 3, 5, 6]);
    expect(t.warnings).toEqual([
      `the EBR chain loops back to LBA ${ext}; stopped after 2 logical partitions`,
    ]);
  });

  it("refuses a partition that runs past the end of the disk", async () => {
    const path = tmp.path("past-end.img");
    writeFileSync(path, readFileSync(disk).subarray(0, 20 * 1024 * 1024));
    const e = await table(path).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ImageFormatError);
    expect((e as Error).message).toBe(
      "MBR partition 3 (sectors 34816-96255) extends past the end of the disk (40960 sectors)",
    );
  });

  it("refuses overlapping primary partitions, naming both", async () => {
    const path = tmp.path("overlap.img");
    writeFileSync(path, readFileSync(disk));
    const start = Buffer.alloc(4);
    start.writeUInt32LE(18000);
    poke(path, 446 + 16 + 8, start); // partition 2 now starts inside partition 1
    const e = await table(path).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ImageFormatError);
    expect((e as Error).message).toBe(
      "partitions 1 (sectors 2048-18431) and 2 (sectors 18000-34383) overlap",
    );
  });

  it("prefers a non-protective MBR over a GPT behind it, with a warning", async () => {
    const path = tmp.path("hybrid.img");
    run("truncate", ["-s", "64M", path]);
    run("sgdisk", ["-o", "-n", "1:0:+8M", path]);
    poke(path, 446 + 4, Buffer.from([0x83])); // the 0xEE entry becomes an ordinary Linux partition
    const t = await table(path);
    expect(t.kind).toBe("mbr");
    expect(t.warnings).toEqual(["a GPT header is present but the MBR is not protective; using the MBR"]);
    expect(t.partitions).toHaveLength(1);
    expect(t.partitions[0]).toMatchObject({ number: 1, firstLba: 1, mbrType: 0x83 });
  });

  it("lists an extended partition with no logical partitions", async () => {
    const path = fdisk(tmp.path("empty-ext.img"), "32M", ["o", "n", "e", "1", "2048", "+8M", "w"]);
    const t = await table(path);
    expect(t.partitions.map((p) => [p.number, p.mbrType])).toEqual(
      fdiskList(path).map((r) => [r.number, r.mbrType]),
    );
    expect(t.warnings).toEqual([]);
  });
});
