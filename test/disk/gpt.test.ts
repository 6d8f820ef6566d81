// GPT disks made by sgdisk in the AlmaLinux layouts, compared with sgdisk's own reading; damaged and
// malformed tables; disks without a partition table.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { crc32 as zlibCrc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImage } from "../../src/disk/image.js";
import {
  type Partition,
  type PartitionTable,
  partitionSource,
  readPartitionTable,
} from "../../src/disk/partitions.js";
import { ImageFormatError } from "../../src/errors.js";
import { run, type TempDir, tempDir } from "./tools.js";

const MiB = 1024 * 1024;
let tmp: TempDir;
beforeAll(() => {
  tmp = tempDir("disk-gpt");
});
afterAll(() => tmp.remove());

interface SgdiskPartition {
  number: number;
  typeGuid: string;
  typeName: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  attributes: string;
  name: string;
}

/** sgdisk -p and -i N: the oracle. */
function sgdisk(path: string): {
  diskGuid: string;
  firstUsable: number;
  lastUsable: number;
  partitions: SgdiskPartition[];
} {
  const p = run("sgdisk", ["-p", path]);
  const diskGuid = /Disk identifier \(GUID\): (\S+)/.exec(p)![1]!;
  const usable = /First usable sector is (\d+), last usable sector is (\d+)/.exec(p)!;
  const numbers = [...p.matchAll(/^\s+(\d+)\s+\d+\s+\d+\s/gm)].map((m) => Number(m[1]));
  const partitions = numbers.map((number) => {
    const i = run("sgdisk", ["-i", String(number), path]);
    const code = /Partition GUID code: (\S+) \((.*)\)\n/.exec(i)!;
    return {
      number,
      typeGuid: code[1]!,
      typeName: code[2]!,
      uniqueGuid: /Partition unique GUID: (\S+)/.exec(i)![1]!,
      firstLba: Number(/First sector: (\d+)/.exec(i)![1]),
      lastLba: Number(/Last sector: (\d+)/.exec(i)![1]),
      attributes: /Attribute flags: (\S+)/.exec(i)![1]!,
      name: /Partition name: '(.*)'\n/.exec(i)![1]!,
    };
  });
  return { diskGuid, firstUsable: Number(usable[1]), lastUsable: Number(usable[2]), partitions };
}

function ours(p: Partition): SgdiskPartition {
  return {
    number: p.number,
    typeGuid: p.typeGuid!,
    typeName: p.typeName,
    uniqueGuid: p.uniqueGuid!,
    firstLba: p.firstLba,
    lastLba: p.lastLba,
    attributes: p.attributes!,
    name: p.name!,
  };
}

async function table(path: string): Promise<PartitionTable> {
  const img = await openImage(path);
  try {
    return await readPartitionTable(img.source);
  } finally {
    await img.close();
  }
}

async function tableError(path: string): Promise<string> {
  const e = await table(path).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImageFormatError);
  expect((e as Error).message).not.toContain("\n");
  return (e as Error).message;
}

function makeDisk(name: string, size: string, sgdiskArgs: string[]): string {
  const path = tmp.path(name);
  run("truncate", ["-s", size, path]);
  run("sgdisk", ["-o", ...sgdiskArgs, path]);
  return path;
}

/** Writes bytes into a file at an offset (the file keeps its size). */
function poke(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Flips the low bit of one byte. */
function flip(path: string, offset: number): void {
  const b = readFileSync(path).subarray(offset, offset + 1);
  poke(path, offset, Buffer.from([b[0]! ^ 1]));
}

function copy(from: string, to: string): string {
  writeFileSync(tmp.path(to), readFileSync(from));
  return tmp.path(to);
}

const X86_64 = [
  ["-n", "1:2048:+1M", "-t", "1:ef02", "-c", "1:BIOS boot"],
  ["-n", "2:0:+200M", "-t", "2:ef00", "-c", "2:EFI System Partition", "-A", "2:set:0"],
  ["-n", "3:0:+1G", "-t", "3:8300", "-c", "3:boot"],
  ["-n", "4:0:0", "-t", "4:8304", "-c", "4:root", "-A", "4:set:63"],
].flat();

const AARCH64 = [
  ["-n", "1:0:+200M", "-t", "1:ef00", "-c", "1:EFI"],
  ["-n", "2:0:+1G", "-t", "2:8300", "-c", "2:/boot"],
  ["-n", "3:0:0", "-t", "3:8305", "-c", "3:racine système ✓", "-A", "3:set:2"],
].flat();

describe("AlmaLinux layouts made by sgdisk", () => {
  for (const [arch, args, count] of [
    ["x86_64", X86_64, 4],
    ["aarch64", AARCH64, 3],
  ] as const) {
    it(`reads the ${arch} layout as sgdisk does`, async () => {
      const path = makeDisk(`${arch}.img`, "10G", args);
      const oracle = sgdisk(path);
      const t = await table(path);
      expect(t.kind).toBe("gpt");
      expect(t.warnings).toEqual([]);
      expect(t.gpt?.used).toBe("primary");
      expect(t.diskGuid).toBe(oracle.diskGuid);
      expect(t.firstUsableLba).toBe(oracle.firstUsable);
      expect(t.lastUsableLba).toBe(oracle.lastUsable);
      expect(t.partitions).toHaveLength(count);
      expect(t.partitions.map(ours)).toEqual(oracle.partitions);
      for (const p of t.partitions) {
        expect(p.start).toBe(p.firstLba * 512);
        expect(p.size).toBe((p.lastLba - p.firstLba + 1) * 512);
      }
      expect(t.gpt?.primary?.headerCrcValid).toBe(true);
      expect(t.gpt?.backup?.headerCrcValid).toBe(true);
      expect(t.gpt?.backup?.lba).toBe(10 * 1024 * 2048 - 1);
    });
  }

  it("gives each partition its own bytes through partitionSource", async () => {
    const path = makeDisk("slices.img", "2G", X86_64);
    const t0 = await table(path);
    for (const p of t0.partitions) {
      poke(path, p.start, Buffer.from(`first bytes of partition ${p.number}`));
      poke(path, p.start + p.size - 4, Buffer.from(`end${p.number}`));
    }
    const img = await openImage(path);
    try {
      const t = await readPartitionTable(img.source);
      for (const p of t.partitions) {
        const s = partitionSource(img.source, p);
        expect(s.size).toBe(p.size);
        expect((await s.read(0, 26)).toString()).toBe(`first bytes of partition ${p.number}`);
        expect((await s.read(p.size - 4, 4)).toString()).toBe(`end${p.number}`);
        await expect(s.read(p.size - 4, 5)).rejects.toBeInstanceOf(ImageFormatError);
      }
    } finally {
      await img.close();
    }
  });
});

describe("damaged tables", () => {
  let base: string;
  let oracle: ReturnType<typeof sgdisk>;
  beforeAll(() => {
    base = makeDisk(
      "base.img",
      "64M",
      [
        ["-n", "1:0:+8M", "-t", "1:ef00"],
        ["-n", "2:0:+8M", "-t", "2:8300"],
        ["-n", "3:0:+8M", "-t", "3:8300"],
        ["-n", "4:0:0", "-t", "4:8304"],
      ].flat(),
    );
    oracle = sgdisk(base);
  });
  const lastLba = 64 * 2048 - 1;

  it("falls back to the backup when the primary header is damaged", async () => {
    const path = copy(base, "bad-primary-header.img");
    flip(path, 512 + 60); // inside the disk GUID: the header CRC no longer matches
    const t = await table(path);
    expect(t.gpt?.used).toBe("backup");
    expect(t.gpt?.primary?.headerCrcValid).toBe(false);
    expect(t.warnings).toEqual([
      `the primary GPT header is damaged (header CRC32 mismatch); using the backup header at LBA ${lastLba}`,
    ]);
    expect(t.diskGuid).toBe(oracle.diskGuid);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("falls back to the backup when the primary entry array is damaged", async () => {
    const path = copy(base, "bad-primary-entries.img");
    flip(path, 2 * 512 + 128 + 40); // partition 2's last LBA
    const t = await table(path);
    expect(t.gpt?.used).toBe("backup");
    expect(t.gpt?.primary?.headerCrcValid).toBe(true);
    expect(t.gpt?.primary?.entriesCrcValid).toBe(false);
    expect(t.warnings[0]).toMatch(/primary GPT header is damaged \(partition entry array CRC32 mismatch\)/);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("warns when only the backup is damaged", async () => {
    const path = copy(base, "bad-backup.img");
    flip(path, lastLba * 512 + 60);
    const t = await table(path);
    expect(t.gpt?.used).toBe("primary");
    expect(t.warnings).toEqual([
      `the backup GPT header at LBA ${lastLba} is damaged (header CRC32 mismatch)`,
    ]);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("refuses a disk whose headers are both damaged", async () => {
    const path = copy(base, "bad-both.img");
    flip(path, 512 + 60);
    flip(path, lastLba * 512 + 60);
    expect(await tableError(path)).toMatch(
      /GPT: the primary header is damaged \(header CRC32 mismatch\) and so is the backup \(at LBA \d+: header CRC32 mismatch\)/,
    );
  });

  it("finds the backup where the primary says it is when the disk has grown", async () => {
    const path = copy(base, "grown.img");
    run("truncate", ["-s", "80M", path]);
    const fine = await table(path);
    expect(fine.warnings).toEqual([]);
    expect(fine.gpt?.backup?.lba).toBe(lastLba);
    flip(path, 512 + 60);
    const t = await table(path);
    expect(t.gpt?.used).toBe("backup");
    expect(t.gpt?.backup?.lba).toBe(lastLba);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("refuses a truncated disk", async () => {
    const path = copy(base, "truncated.img");
    run("truncate", ["-s", "40M", path]);
    expect(await tableError(path)).toMatch(/does not fit a disk of 81920 sectors \(truncated image\?\)/);
  });

  /** Rewrites the primary entry array and header with valid CRCs (computed by node:zlib, not our code). */
  function rewritePrimary(path: string, edit: (header: Buffer, entries: Buffer) => void): void {
    const disk = readFileSync(path);
    const header = Buffer.from(disk.subarray(512, 512 + 92));
    const entries = Buffer.from(disk.subarray(1024, 1024 + 128 * 128));
    edit(header, entries);
    const count = header.readUInt32LE(80);
    const size = header.readUInt32LE(84);
    header.writeUInt32LE(zlibCrc32(entries.subarray(0, Math.min(entries.length, count * size))), 88);
    header.writeUInt32LE(0, 16);
    header.writeUInt32LE(zlibCrc32(header), 16);
    poke(path, 512, header);
    poke(path, 1024, entries);
  }

  it("refuses overlapping partitions, naming both", async () => {
    const path = copy(base, "overlap.img");
    const p2 = oracle.partitions[1]!;
    rewritePrimary(path, (_h, e) => e.writeBigUInt64LE(BigInt(p2.lastLba - 10), 2 * 128 + 32));
    expect(await tableError(path)).toBe(
      `partitions 2 (sectors ${p2.firstLba}-${p2.lastLba}) and 3 (sectors ${p2.lastLba - 10}-${oracle.partitions[2]!.lastLba}) overlap`,
    );
  });

  it("refuses a partition outside the usable range", async () => {
    const path = copy(base, "outside.img");
    rewritePrimary(path, (_h, e) => e.writeBigUInt64LE(BigInt(oracle.lastUsable + 5), 3 * 128 + 40));
    expect(await tableError(path)).toMatch(
      /GPT partition 4 \(sectors \d+-\d+\) lies outside the usable range 34-\d+/,
    );
  });

  it("uses the backup when the primary claims an absurd entry array", async () => {
    const path = copy(base, "absurd-count.img");
    rewritePrimary(path, (h) => h.writeUInt32LE(0xffffffff, 80));
    const t = await table(path);
    expect(t.gpt?.used).toBe("backup");
    expect(t.warnings[0]).toMatch(/partition entry array \(4294967295 entries of 128 bytes\) is invalid/);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("reads a GPT without a protective MBR, with a warning", async () => {
    const path = copy(base, "no-pmbr.img");
    poke(path, 0, Buffer.alloc(512));
    const t = await table(path);
    expect(t.kind).toBe("gpt");
    expect(t.warnings).toEqual(["the GPT has no protective MBR"]);
    expect(t.partitions.map(ours)).toEqual(oracle.partitions);
  });

  it("refuses a protective MBR with no GPT behind it", async () => {
    const path = copy(base, "pmbr-only.img");
    poke(path, 512, Buffer.alloc(512));
    poke(path, lastLba * 512, Buffer.alloc(512));
    expect(await tableError(path)).toMatch(
      /no signature at LBA 1\) and so is the backup \(none at LBA \d+\)/,
    );
  });
});

describe("disks without a partition table", () => {
  it.each([
    ["xfs", ["mkfs.xfs", "-q", "-f"]],
    ["ext4", ["mkfs.ext4", "-q", "-F"]],
    ["vfat", ["mkfs.vfat"]],
  ])("a bare %s filesystem has kind none", async (name, [tool, ...args]) => {
    const path = tmp.path(`bare.${name}`);
    run("truncate", ["-s", "300M", path]);
    run(tool!, [...args!, path]);
    const t = await table(path);
    expect(t).toEqual({ kind: "none", sectorSize: 512, partitions: [], warnings: [] });
  });

  it("zeros and tiny disks have kind none", async () => {
    writeFileSync(tmp.path("zeros"), Buffer.alloc(MiB));
    expect((await table(tmp.path("zeros"))).kind).toBe("none");
    writeFileSync(tmp.path("tiny"), Buffer.from("hello"));
    expect((await table(tmp.path("tiny"))).kind).toBe("none");
  });
});
