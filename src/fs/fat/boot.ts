/**
 * The FAT boot sector (BIOS parameter block): geometry, validated so that every later offset stays
 * inside the filesystem. The FAT type follows from the cluster count, as the specification defines it.
 */
import { ImageFormatError } from "../../errors.js";

export interface FatGeometry {
  readonly type: 12 | 16 | 32;
  readonly bytesPerSector: number;
  readonly clusterSize: number;
  /** Byte offset of the FAT in use (the first one, or FAT32's active one when mirroring is off). */
  readonly fatOffset: number;
  readonly fatBytes: number;
  /** FAT12/16: the fixed root directory region; FAT32: undefined (the root is a cluster chain). */
  readonly rootRegion?: { readonly offset: number; readonly bytes: number };
  /** FAT32: the root directory's first cluster. */
  readonly rootCluster: number;
  /** Byte offset of cluster 2, the first data cluster. */
  readonly dataOffset: number;
  /** Data clusters: valid cluster numbers are 2 .. clusterCount + 1. */
  readonly clusterCount: number;
  /** Bytes the filesystem spans. */
  readonly bytes: number;
  /** Linux sets bit 0 of this boot sector byte while the volume is mounted (FAT_STATE_DIRTY). */
  readonly state: number;
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

export function parseBootSector(b: Buffer, sourceSize: number): FatGeometry {
  const bad = (why: string): never => {
    throw new ImageFormatError(`fat: boot sector: ${why}`);
  };
  if (b.length < 512 || b.readUInt16LE(510) !== 0xaa55) bad("missing the 0x55AA signature");
  const bytesPerSector = b.readUInt16LE(11);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) bad(`invalid bytes per sector ${bytesPerSector}`);
  const sectorsPerCluster = b[13]!;
  if (!isPowerOfTwo(sectorsPerCluster) || sectorsPerCluster > 128) {
    bad(`invalid sectors per cluster ${sectorsPerCluster}`);
  }
  const reserved = b.readUInt16LE(14);
  const fats = b[16]!;
  const rootEntries = b.readUInt16LE(17);
  const total = b.readUInt16LE(19) || b.readUInt32LE(32);
  const fatSectors = b.readUInt16LE(22) || b.readUInt32LE(36);
  if (reserved < 1) bad("no reserved sectors");
  if (fats < 1 || fats > 4) bad(`invalid number of FATs ${fats}`);
  if (fatSectors < 1) bad("the FAT has no sectors");
  const rootSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const firstData = reserved + fats * fatSectors + rootSectors;
  if (total <= firstData) bad(`${total} sectors leave no room for data`);
  const clusterCount = Math.floor((total - firstData) / sectorsPerCluster);
  const type = clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
  const bytes = total * bytesPerSector;
  if (bytes > sourceSize) {
    bad(`the filesystem needs ${bytes} bytes but its partition holds ${sourceSize} (truncated image?)`);
  }
  const entryBits = type === 12 ? 12 : type === 16 ? 16 : 32;
  const fatBytes = fatSectors * bytesPerSector;
  if (Math.ceil(((clusterCount + 2) * entryBits) / 8) > fatBytes) {
    bad(`a FAT of ${fatBytes} bytes cannot map ${clusterCount} clusters`);
  }
  let fatIndex = 0;
  let rootCluster = 0;
  if (type === 32) {
    if (rootEntries !== 0 || b.readUInt16LE(22) !== 0) bad("FAT32 with a fixed root directory");
    const flags = b.readUInt16LE(40);
    if (flags & 0x80) fatIndex = flags & 0xf; // mirroring off: only the active FAT is current
    if (fatIndex >= fats) bad(`active FAT ${fatIndex} does not exist`);
    rootCluster = b.readUInt32LE(44);
    if (rootCluster < 2 || rootCluster > clusterCount + 1) bad(`invalid root cluster ${rootCluster}`);
  } else if (rootEntries === 0) {
    bad(`FAT${type} without a root directory`);
  }
  return {
    type,
    bytesPerSector,
    clusterSize: bytesPerSector * sectorsPerCluster,
    fatOffset: (reserved + fatIndex * fatSectors) * bytesPerSector,
    fatBytes,
    ...(type === 32
      ? {}
      : {
          rootRegion: {
            offset: (reserved + fats * fatSectors) * bytesPerSector,
            bytes: rootEntries * 32,
          },
        }),
    rootCluster,
    dataOffset: firstData * bytesPerSector,
    clusterCount,
    bytes,
    state: b[type === 32 ? 65 : 37]!,
  };
}

/**
 * Label and volume ID of a FAT filesystem from its boot sector, spelled as blkid does
 * ("EFI", "1234-ABCD"). The label in the root directory is not read: mkfs.fat writes both.
 */
export function fatIdentity(head: Buffer): { label?: string; uuid?: string } {
  if (head.length < 512 || head.readUInt16LE(510) !== 0xaa55) return {};
  // FAT32 moves the extended BPB from offset 36 to 64; 0x29 marks it as carrying id and label.
  const fat32 = head.readUInt16LE(22) === 0;
  const ebpb = fat32 ? 64 : 36;
  if (head[ebpb + 2] !== 0x29) return {};
  const id = head
    .readUInt32LE(ebpb + 3)
    .toString(16)
    .toUpperCase()
    .padStart(8, "0");
  const label = head.toString("latin1", ebpb + 7, ebpb + 18).trimEnd();
  return {
    uuid: `${id.slice(0, 4)}-${id.slice(4)}`,
    ...(label !== "" && label !== "NO NAME" ? { label } : {}),
  };
}
