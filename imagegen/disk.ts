/**
 * Filesystems and the raw disk. Each filesystem is made as a side file the size of its partition (mkfs.xfs
 * from a protofile, mkfs.ext4 -d then e2fsck -D for htree directories, mkfs.fat + mcopy for the ESP), so
 * it can be cached, copied, loop-mounted and changed on its own; the disk is then a sparse file with a
 * GPT written by sgdisk and the side files copied into their partitions sparsely.
 */
import { closeSync, ftruncateSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";
import { type PlannedPartition, partitionBytes, planLayout } from "./layout.js";
import { protofile, stickyEntries } from "./protofile.js";
import { sparseCopy } from "./sparse-copy.js";
import type { BuiltPartition, NormalizedSpec, RootFs } from "./spec.js";

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

/** The filesystem side files of an image, by role; `boot` and `esp` are absent for layout bare. */
export interface SideFiles {
  root: string;
  boot?: string;
  esp?: string;
}

export const SIDE_FILES = { root: "root.img", boot: "boot.img", esp: "esp.img" } as const;

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
  out: string,
  size: number,
  scratch: string,
): Promise<void> {
  const proto = join(scratch, `${label}.proto`);
  createSparse(out, size);
  writeFileSync(proto, protofile(tree));
  const meta = ["-m", [`uuid=${uuid}`, ...xfsFeatures(spec)].join(",")];
  await run("mkfs.xfs", ["-q", "-f", ...meta, "-L", label, "-p", proto, out]);
  // the sticky bit (/tmp, /var/tmp) is set afterwards in expert mode; xfs_db recomputes the inode CRC
  const sticky = stickyEntries(tree).flatMap((e) => [
    "-c",
    `path ${e.path}`,
    "-c",
    `write core.mode 0${e.mode.toString(8)}`,
  ]);
  if (sticky.length > 0) await run("xfs_db", ["-x", ...sticky, out]);
  rmSync(proto, { force: true });
}

async function makeExt4(tree: string, label: string, uuid: string, out: string, size: number): Promise<void> {
  createSparse(out, size);
  await run("mkfs.ext4", ["-q", "-F", "-L", label, "-U", uuid, "-d", tree, out, `${size / 512}s`]);
  // mkfs.ext4 -d writes linear directories; a kernel-made filesystem indexes big ones (htree).
  // e2fsck -D rebuilds them so; exit 1 means "filesystem modified", which is the point.
  await run("e2fsck", ["-f", "-y", "-D", out], { okCodes: [0, 1] });
}

/** The root or /boot filesystem, of the spec's root filesystem type (gencloud_ext4 has an ext4 /boot). */
function makeFs(
  spec: NormalizedSpec,
  fs: RootFs,
  tree: string,
  label: string,
  uuid: string,
  out: string,
  size: number,
  scratch: string,
): Promise<void> {
  return fs === "xfs"
    ? makeXfs(spec, tree, label, uuid, out, size, scratch)
    : makeExt4(tree, label, uuid, out, size);
}

async function makeEsp(tree: string, p: PlannedPartition, volumeId: string, out: string): Promise<void> {
  const { size } = partitionBytes(p);
  createSparse(out, size);
  // hidden sectors: the partition's start, as if made in place on the disk
  await run("mkfs.fat", ["-F", "16", "-n", "EFI", "-i", volumeId, "-h", String(p.firstSector), out]);
  await run("mcopy", ["-s", "-i", out, join(tree, "EFI"), "::/"], { env: { MTOOLS_SKIP_CHECK: "1" } });
}

function fsOf(spec: NormalizedSpec, p: PlannedPartition): BuiltPartition["fs"] {
  return { bios: null, esp: "vfat" as const, boot: spec.rootfs, root: spec.rootfs }[p.role];
}

/** The partitions of the spec's layout (none for layout bare). */
export function plannedPartitions(spec: NormalizedSpec, diskBytes: number): PlannedPartition[] {
  return spec.layout === "bare" ? [] : planLayout(spec.arch, diskBytes);
}

export function builtPartitions(spec: NormalizedSpec, diskBytes: number): BuiltPartition[] {
  return plannedPartitions(spec, diskBytes).map((p) => ({
    number: p.number,
    name: p.name,
    fs: fsOf(spec, p),
    type: p.type,
    ...partitionBytes(p),
  }));
}

/** Makes every filesystem of the image as side files in `outDir` (scratch files go to `scratch`). */
export async function makeFilesystems(
  spec: NormalizedSpec,
  diskBytes: number,
  trees: DiskTrees,
  ids: DiskIds,
  outDir: string,
  scratch: string,
): Promise<SideFiles> {
  const root = join(outDir, SIDE_FILES.root);
  if (spec.layout === "bare") {
    await makeFs(spec, spec.rootfs, trees.root, "root", ids.rootUuid, root, diskBytes, scratch);
    return { root };
  }
  const out: SideFiles = { root };
  for (const p of plannedPartitions(spec, diskBytes)) {
    const { size } = partitionBytes(p);
    if (p.role === "esp") {
      out.esp = join(outDir, SIDE_FILES.esp);
      await makeEsp(trees.esp, p, ids.espVolumeId, out.esp);
    } else if (p.role === "boot") {
      out.boot = join(outDir, SIDE_FILES.boot);
      await makeFs(spec, spec.rootfs, trees.boot, "boot", ids.bootUuid, out.boot, size, scratch);
    } else if (p.role === "root") {
      await makeFs(spec, spec.rootfs, trees.root, "root", ids.rootUuid, root, size, scratch);
    }
  }
  return out;
}

/** Copies a sparse file (data only) to a new sparse file of the same size. */
export async function copySparse(src: string, dst: string, bytes: number): Promise<void> {
  createSparse(dst, bytes);
  await sparseCopy(src, dst, 0);
}

/** Writes the raw disk at `disk`: the GPT (sgdisk) and each side file in its partition. */
export async function assembleDisk(
  spec: NormalizedSpec,
  diskBytes: number,
  files: SideFiles,
  ids: DiskIds,
  disk: string,
): Promise<BuiltPartition[]> {
  createSparse(disk, diskBytes);
  if (spec.layout === "bare") {
    await sparseCopy(files.root, disk, 0);
    return [];
  }
  const plan = plannedPartitions(spec, diskBytes);
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
    const side = p.role === "bios" ? undefined : files[p.role];
    if (side) await sparseCopy(side, disk, partitionBytes(p).start);
  }
  return builtPartitions(spec, diskBytes);
}
