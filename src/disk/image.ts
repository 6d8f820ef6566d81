/**
 * Opens a disk image file as a ByteSource of the guest disk, choosing the container (raw or qcow2)
 * from the file's content, never its name.
 */
import { ImageFormatError } from "../errors.js";
import { openQcow2, QCOW2_MAGIC, type Qcow2Info } from "./qcow2.js";
import { type ByteSource, FileSource } from "./source.js";

export type ContainerFormat = "raw" | "qcow2";

export interface DiskImage {
  readonly path: string;
  readonly format: ContainerFormat;
  /** Size of the guest disk in bytes. */
  readonly virtualSize: number;
  /** The guest disk. */
  readonly source: ByteSource;
  /** The image file itself (its `bytesRead` counts what was read from the host). */
  readonly file: FileSource;
  /** Header facts when the image is qcow2. */
  readonly qcow2?: Qcow2Info;
  close(): Promise<void>;
}

export interface OpenedContainer {
  readonly format: ContainerFormat;
  readonly virtualSize: number;
  readonly source: ByteSource;
  readonly qcow2?: Qcow2Info;
}

/** Other formats, recognised only to refuse them with a useful message. */
const REFUSED: readonly { at: number; magic: Buffer; message: string }[] = [
  {
    at: 0,
    magic: Buffer.from("KDMV"),
    message: "is a VMDK image; convert it with qemu-img convert -O qcow2",
  },
  {
    at: 0,
    magic: Buffer.from("# Disk DescriptorFile"),
    message: "is a VMDK descriptor; convert the VMDK with qemu-img convert -O qcow2",
  },
  {
    at: 0,
    magic: Buffer.from("vhdxfile"),
    message: "is a VHDX image; convert it with qemu-img convert -O qcow2",
  },
  {
    at: 0,
    magic: Buffer.from("conectix"),
    message: "is a dynamic VHD image; convert it with qemu-img convert -O qcow2",
  },
  {
    at: 64,
    magic: Buffer.from([0x7f, 0x10, 0xda, 0xbe]),
    message: "is a VirtualBox VDI image; convert it with qemu-img convert -O qcow2",
  },
  {
    at: 0,
    magic: Buffer.from("QED\0"),
    message: "is a QED image; convert it with qemu-img convert -O qcow2",
  },
  {
    at: 0,
    magic: Buffer.from([0x1f, 0x8b]),
    message: "looks like a gzip-compressed file; decompress it first",
  },
  {
    at: 0,
    magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    message: "looks like a zstd-compressed file; decompress it first",
  },
  {
    at: 0,
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    message: "looks like an xz-compressed file; decompress it first",
  },
  { at: 0, magic: Buffer.from("BZh"), message: "looks like a bzip2-compressed file; decompress it first" },
];

/**
 * Decides the container from the first bytes of a file: "qcow2" or "raw". Throws an
 * ImageFormatError for formats it recognises but does not read.
 */
export function detectContainer(head: Buffer, name: string): ContainerFormat {
  if (head.length === 0) throw new ImageFormatError(`${name} is empty`);
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return "qcow2";
  for (const r of REFUSED) {
    if (head.subarray(r.at, r.at + r.magic.length).equals(r.magic)) {
      throw new ImageFormatError(`${name} ${r.message}`);
    }
  }
  return "raw";
}

/** Opens the guest disk held in `file` (any source with the image file's bytes). */
export async function openContainer(file: ByteSource, name: string): Promise<OpenedContainer> {
  const head = await file.read(0, Math.min(file.size, 512));
  const format = detectContainer(head, name);
  if (format === "raw") return { format, virtualSize: file.size, source: file };
  const q = await openQcow2(file, { name });
  return { format, virtualSize: q.size, source: q, qcow2: q.info };
}

/** Opens an image file (raw or qcow2, detected from its content) read-only. */
export async function openImage(path: string): Promise<DiskImage> {
  const file = await FileSource.open(path);
  try {
    const c = await openContainer(file, path);
    return {
      path,
      format: c.format,
      virtualSize: c.virtualSize,
      source: c.source,
      file,
      ...(c.qcow2 ? { qcow2: c.qcow2 } : {}),
      close: () => file.close(),
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}
