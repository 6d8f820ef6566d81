/**
 * The raw disk, without mounting anything: a sparse file, a GPT written by sgdisk, the ESP made with
 * `mkfs.fat --offset` and filled with mcopy, XFS made by `mkfs.xfs -p protofile` into a side file that is
 * copied into place sparsely (side files live in `scratch`, on disk), ext4 made by
 * `mkfs.ext4 -d TREE -E offset=` straight into the disk and its directories indexed by `e2fsck -D`.
 */
import { closeSync, ftruncateSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";
import { type PlannedPartition, partitionBytes, planLayout } from "./layout.js";
import { protofile, stickyEntries } from "./protofile.js";
import { sparseCopy } from "./sparse-copy.js";
import type { BuiltPartition, NormalizedSpec } from "./spec.js";

export interface DiskIds {
  diskGuid: string;
  partGuid: (n: number) => string;
  rootUuid: string;
  bootUuid: string;
  espVolumeId: string;
}

export interface DiskTrees {
  root: string;
  boot: string;
  esp: string;
}

/** A new file of `bytes` bytes, all hole. */
function createSparse(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** EL8's mkfs.xfs predates bigtime and inobtcount; later releases have both on by default. */
function xfsFeatures(spec: NormalizedSpec): string[] {
  return spec.el === "8" ? ["bigtime=0", "inobtcount=0"] : [];
}

async function makeXfs(
  spec: NormalizedSpec,
  tree: string,
  label: string,
  uuid: string,
  disk: string,
  offset: number,
  size: number,
  scratch: string,
): Promise<void> {
  const side = join(scratch, `${label}.xfs`);
  const proto = join(scratch, `${label}.proto`);
  createSparse(side, size);
  writeFileSync(proto, protofile(tree));
  const meta = ["-m", [`uuid=${uuid}`, ...xfsFeatures(spec)].join(",")];
  await run("mkfs.xfs", ["-q", "-f", ...meta, "-L", label, "-p", proto, side]);
  // the sticky bit (/tmp, /var/tmp) is set afterwards in expert mode; xfs_db recomputes the inode CRC
  const sticky = stickyEntries(tree).flatMap((e) => [
    "-c",
    `path ${e.path}`,
    "-c",
    `write core.mode 0${e.mode.toString(8)}`,
  ]);
  if (sticky.length > 0) await run("xfs_db", ["-x", ...sticky, side]);
  await sparseCopy(side, disk, offset);
  rmSync(side, { force: true });
  rmSync(proto, { force: true });
}

async function makeExt4(
  tree: string,
  uuid: string,
  disk: string,
  offset: number,
  size: number,
): Promise<void> {
  await run("mkfs.ext4", [
    "-q",
    "-F",
    "-L",
    "root",
    "-U",
    uuid,
    "-d",
    tree,
    "-E",
    `offset=${offset}`,
    disk,
    `${size / 512}s`,
  ]);
  // mkfs.ext4 -d writes linear directories; a kernel-made filesystem indexes big ones (htree).
  // e2fsck -D rebuilds them so; exit 1 means "filesystem modified", which is the point.
  await run("e2fsck", ["-f", "-y", "-D", `${disk}?offset=${offset}`], { okCodes: [0, 1] });
}

async function makeRoot(
  spec: NormalizedSpec,
  trees: DiskTrees,
  ids: DiskIds,
  disk: string,
  offset: number,
  size: number,
  scratch: string,
) {
  if (spec.rootfs === "xfs")
    await makeXfs(spec, trees.root, "root", ids.rootUuid, disk, offset, size, scratch);
  else await makeExt4(trees.root, ids.rootUuid, disk, offset, size);
}

function fsOf(spec: NormalizedSpec, p: PlannedPartition): BuiltPartition["fs"] {
  return { bios: null, esp: "vfat" as const, boot: "xfs" as const, root: spec.rootfs }[p.role];
}

/** Writes the raw disk at `disk`; returns its partitions (empty for layout "bare"). */
export async function makeDisk(
  spec: NormalizedSpec,
  diskBytes: number,
  trees: DiskTrees,
  ids: DiskIds,
  disk: string,
  scratch: string,
): Promise<BuiltPartition[]> {
  createSparse(disk, diskBytes);
  if (spec.layout === "bare") {
    await makeRoot(spec, trees, ids, disk, 0, diskBytes, scratch);
    return [];
  }
  const plan = planLayout(spec.arch, diskBytes);
  const args = ["-o", "-U", ids.diskGuid];
  for (const p of plan) {
    args.push(
      `-n${p.number}:${p.firstSector}:${p.lastSector}`,
      `-t${p.number}:${p.type}`,
      `-c${p.number}:${p.name}`,
      `-u${p.number}:${ids.partGuid(p.number)}`,
    );
  }
  // no -q: with -q sgdisk silently writes nothing
  await run("sgdisk", [...args, disk]);
  for (const p of plan) {
    const { start, size } = partitionBytes(p);
    if (p.role === "esp") {
      await run("mkfs.fat", [
        "-F",
        "16",
        "-n",
        "EFI",
        "-i",
        ids.espVolumeId,
        "-h",
        String(p.firstSector),
        `--offset=${p.firstSector}`,
        disk,
        String(size / 1024),
      ]);
      await run("mcopy", ["-s", "-i", `${disk}@@${start}`, join(trees.esp, "EFI"), "::/"], {
        env: { MTOOLS_SKIP_CHECK: "1" },
      });
    } else if (p.role === "boot") {
      await makeXfs(spec, trees.boot, "boot", ids.bootUuid, disk, start, size, scratch);
    } else if (p.role === "root") {
      await makeRoot(spec, trees, ids, disk, start, size, scratch);
    }
  }
  return plan.map((p) => ({
    number: p.number,
    name: p.name,
    fs: fsOf(spec, p),
    type: p.type,
    ...partitionBytes(p),
  }));
}
