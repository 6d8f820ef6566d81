// The real third-party fixtures in test/data/disk must read exactly as their answer files say.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readGptHeader } from "../../src/disk/gpt.js";
import { openImage } from "../../src/disk/image.js";
import { gptTypeName, readPartitionTable } from "../../src/disk/partitions.js";
import { sha256, sha256Of } from "./tools.js";

const data = (name: string) => fileURLToPath(new URL(`../data/disk/${name}`, import.meta.url));
const answer = (name: string) => JSON.parse(readFileSync(data(`${name}.expected.json`), "utf8"));

describe("qcow2-rs test.qcow2", () => {
  const expected = answer("test.qcow2");

  it("reports the header facts qemu-img reports", async () => {
    const img = await openImage(data("test.qcow2"));
    try {
      expect(img.format).toBe("qcow2");
      expect(img.file.size).toBe(expected.file_size);
      expect(img.virtualSize).toBe(expected.virtual_size);
      expect(img.source.size).toBe(expected.virtual_size);
      expect(img.qcow2?.clusterSize).toBe(expected.cluster_size);
      expect(img.qcow2?.version).toBe(expected.version);
      expect(img.qcow2?.compressionType).toBe(expected.qemu_img_info_format_specific["compression-type"]);
      expect(img.qcow2?.refcountBits).toBe(expected.qemu_img_info_format_specific["refcount-bits"]);
      expect(img.qcow2?.lazyRefcounts).toBe(expected.qemu_img_info_format_specific["lazy-refcounts"]);
      expect(img.qcow2?.corrupt).toBe(expected.qemu_img_info_format_specific.corrupt);
      expect(img.qcow2?.dirty).toBe(expected.dirty_flag);
      expect(img.qcow2?.l1Size).toBe(expected.header.l1_size);
      expect(img.qcow2?.l1TableOffset).toBe(expected.header.l1_table_offset);
      expect(img.qcow2?.snapshots).toBe(expected.header.nb_snapshots);
    } finally {
      await img.close();
    }
  });

  it("reads the 64 bytes at 200 MiB and the data cluster", async () => {
    const img = await openImage(data("test.qcow2"));
    try {
      const r = expected.read_at_200MiB;
      const got = await img.source.read(r.offset, r.length);
      expect(got.toString("hex")).toBe(r.hex);
      expect(got.toString("latin1")).toBe(r.ascii);
      const c = expected.data_cluster_at_200MiB;
      const cluster = await img.source.read(c.offset, c.length);
      expect(sha256(cluster)).toBe(c.sha256);
      expect(sha256(cluster.subarray(0, c.nonzero_prefix_length))).toBe(c.nonzero_prefix_sha256);
      // Only the clusters it needs: header, L1, one L2 table, the data (well under 1 MiB of a 384 KiB file).
      expect(img.file.bytesRead).toBeLessThanOrEqual(expected.file_size);
    } finally {
      await img.close();
    }
  });

  it("reads every range of qemu-img map as mapped: zeros where unallocated", async () => {
    const img = await openImage(data("test.qcow2"));
    try {
      for (const m of expected.map as { start: number; length: number; data: boolean; zero: boolean }[]) {
        // Sample the start, the end and the middle of each range.
        for (const at of [
          m.start,
          m.start + m.length - 4096,
          m.start + Math.floor(m.length / 2 / 512) * 512,
        ]) {
          const got = await img.source.read(at, 4096);
          if (m.zero) expect(got.every((b) => b === 0)).toBe(true);
        }
      }
    } finally {
      await img.close();
    }
  });

  it("streams the whole 1000 MiB guest disk to the sha256 of qemu-img convert -O raw", async () => {
    const img = await openImage(data("test.qcow2"));
    try {
      expect(await sha256Of(img.source)).toBe(expected.raw_sha256);
      expect(img.file.bytesRead).toBeLessThan(1024 * 1024);
    } finally {
      await img.close();
    }
  });
});

describe("Quyzi/gpt gpt-disk.img", () => {
  const expected = answer("gpt-disk.img");

  it("reads the partition table sgdisk reads", async () => {
    const img = await openImage(data("gpt-disk.img"));
    try {
      expect(img.format).toBe("raw");
      expect(img.virtualSize).toBe(expected.file_size);
      expect(img.virtualSize / 512).toBe(expected.total_sectors);
      const t = await readPartitionTable(img.source);
      expect(t.kind).toBe("gpt");
      expect(t.sectorSize).toBe(expected.logical_sector_size);
      expect(t.diskGuid).toBe(expected.disk_guid);
      expect(t.firstUsableLba).toBe(expected.first_usable_lba);
      expect(t.lastUsableLba).toBe(expected.last_usable_lba);
      expect(t.warnings).toEqual([]);
      expect(t.gpt?.used).toBe("primary");
      expect(
        t.partitions.map((p) => ({
          number: p.number,
          first_lba: p.firstLba,
          last_lba: p.lastLba,
          size_sectors: p.size / 512,
          type_guid: p.typeGuid,
          type_name: p.typeName,
          unique_guid: p.uniqueGuid,
          attribute_flags: p.attributes,
          name: p.name,
        })),
      ).toEqual(expected.partitions);
      for (const p of t.partitions) {
        expect(p.start).toBe(p.firstLba * 512);
        expect(gptTypeName(p.typeGuid!)).toBe(expected.partitions[p.number - 1].type_name);
      }
    } finally {
      await img.close();
    }
  });

  it("reads both headers with their CRC validity", async () => {
    const img = await openImage(data("gpt-disk.img"));
    try {
      const t = await readPartitionTable(img.source);
      const table = expected.partition_table;
      expect(t.gpt?.primary?.entriesLba).toBe(table.primary_entries_first_lba);
      expect(t.gpt?.primary?.entryCount).toBe(table.max_entries);
      for (const [which, e] of [
        ["primary", expected.primary_header],
        ["backup", expected.backup_header],
      ] as const) {
        const h = which === "primary" ? t.gpt?.primary : t.gpt?.backup;
        const direct = await readGptHeader(img.source, e.current_lba);
        expect(direct).toEqual(h);
        expect(h).toMatchObject({
          revision: Number(e.revision),
          headerSize: e.header_size,
          headerCrc32: Number(e.header_crc32),
          headerCrcValid: e.header_crc32_valid,
          currentLba: e.current_lba,
          backupLba: e.backup_lba,
          firstUsableLba: e.first_usable_lba,
          lastUsableLba: e.last_usable_lba,
          diskGuid: e.disk_guid,
          entriesLba: e.partition_entries_lba,
          entryCount: e.num_partition_entries,
          entrySize: e.partition_entry_size,
          entriesCrc32: Number(e.partition_entries_crc32),
          entriesCrcValid: e.partition_entries_crc32_valid,
        });
        expect(h?.problem).toBeUndefined();
      }
      expect(t.gpt?.backup?.lba).toBe(expected.backup_header_lba);
      expect((t.gpt?.primary?.entriesLba ?? 0) + Math.ceil((128 * 128) / 512) - 1).toBe(
        table.primary_entries_last_lba,
      );
    } finally {
      await img.close();
    }
  });
});
