/** What `inspect` reports about an image: container, partitions, root, os-release. */
import { CloudImagesError } from "../errors.js";
import { parseOsRelease } from "./os-release.js";
import { type OpenedRoot, type OpenRootOptions, openImageRoot } from "./root.js";

export interface PartitionSummary {
  readonly number: number;
  readonly start: number;
  readonly size: number;
  readonly type: string;
  readonly typeGuid?: string;
  readonly name?: string;
  readonly filesystem: string;
  readonly label?: string;
  readonly uuid?: string;
  readonly root: boolean;
}

export interface ImageFacts {
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly fileSize: number;
  readonly partitionTable: string;
  readonly partitions: readonly PartitionSummary[];
  readonly rootPartition: number | null;
  readonly rootFilesystem: string;
  readonly rootMismatch?: string;
  readonly osRelease: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

export async function inspectImage(path: string, options: OpenRootOptions = {}): Promise<ImageFacts> {
  const root = await openImageRoot(path, options);
  try {
    return await describe(root);
  } finally {
    await root.close();
  }
}

export async function describe(root: OpenedRoot): Promise<ImageFacts> {
  let osRelease: Record<string, string> = {};
  const warnings = [...root.table.warnings];
  try {
    osRelease = parseOsRelease((await root.paths.readFile("/etc/os-release", 1024 * 1024)).toString("utf8"));
  } catch (e) {
    if (!(e instanceof CloudImagesError)) throw e;
    warnings.push(`cannot read /etc/os-release: ${e.message}`);
  }
  if (root.rootMismatch) warnings.push(root.rootMismatch);
  return {
    path: root.image.path,
    format: root.image.format,
    virtualSize: root.image.virtualSize,
    fileSize: root.image.file.size,
    partitionTable: root.table.kind,
    partitions: root.partitions.map((f) => ({
      number: f.partition.number,
      start: f.partition.start,
      size: f.partition.size,
      type: f.partition.typeName,
      ...(f.partition.typeGuid ? { typeGuid: f.partition.typeGuid } : {}),
      ...(f.partition.name ? { name: f.partition.name } : {}),
      filesystem: f.filesystem,
      ...(f.label !== undefined ? { label: f.label } : {}),
      ...(f.uuid !== undefined ? { uuid: f.uuid } : {}),
      root: f.partition.number === root.rootPartition,
    })),
    rootPartition: root.rootPartition,
    rootFilesystem: root.fs.type,
    ...(root.rootMismatch ? { rootMismatch: root.rootMismatch } : {}),
    osRelease,
    warnings,
  };
}
