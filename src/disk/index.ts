/** The disk layer: image containers (raw, qcow2) and partition tables, all as ByteSources. */
export { crc32 } from "./crc32.js";
export { formatGuid, readGptHeader } from "./gpt.js";
export {
  type ContainerFormat,
  type DiskImage,
  detectContainer,
  type OpenedContainer,
  openContainer,
  openImage,
} from "./image.js";
export type { GptHeader, Partition, PartitionTable } from "./partition-table.js";
export { partitionSource, readPartitionTable } from "./partitions.js";
export { openQcow2, type Qcow2Compression, type Qcow2Info, type Qcow2Options, Qcow2Source } from "./qcow2.js";
export { BufferSource, type ByteSource, checkRange, FileSource, MAX_READ, SliceSource } from "./source.js";
export { gptTypeName, mbrTypeName } from "./type-names.js";
