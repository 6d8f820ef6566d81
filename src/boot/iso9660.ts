/**
 * A minimal ISO 9660 volume writer (ECMA-119: primary volume descriptor, path tables, one root directory,
 * plain 8.3 file names), enough for an OpenNebula CONTEXT volume: one-context finds it by its label and
 * reads context.sh from it (Linux shows ISO 9660 names in lower case, without the ";1" version).
 */

const SECTOR = 2048;

function bothEndian32(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(value, 0);
  b.writeUInt32BE(value, 4);
  return b;
}

function bothEndian16(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(value, 0);
  b.writeUInt16BE(value, 2);
  return b;
}

function padded(text: string, length: number): Buffer {
  return Buffer.from(text.padEnd(length, " ").slice(0, length), "ascii");
}

/** The 7-byte date of a directory record (UTC). */
function recordDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

/** The 17-byte date of a volume descriptor (UTC). */
function volumeDate(d: Date): Buffer {
  const digits = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return Buffer.concat([Buffer.from(`${digits}00`, "ascii"), Buffer.from([0])]);
}

function directoryRecord(name: Buffer, extent: number, size: number, isDir: boolean, date: Date): Buffer {
  const length = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(length);
  r[0] = length;
  bothEndian32(extent).copy(r, 2);
  bothEndian32(size).copy(r, 10);
  recordDate(date).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  bothEndian16(1).copy(r, 28);
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

/** ISO 9660 level 1 name: upper-case d-characters, 8.3, with the ";1" version. */
export function isoFileName(name: string): string {
  const upper = name.toUpperCase();
  const dot = upper.lastIndexOf(".");
  const base = (dot < 0 ? upper : upper.slice(0, dot)).replace(/[^A-Z0-9_]/g, "_").slice(0, 8);
  const ext =
    dot < 0
      ? ""
      : upper
          .slice(dot + 1)
          .replace(/[^A-Z0-9_]/g, "_")
          .slice(0, 3);
  if (base === "") throw new Error(`iso9660: "${name}" has no usable name`);
  return `${base}.${ext};1`;
}

export interface IsoFile {
  readonly name: string;
  readonly data: Buffer;
}

/** The volume's bytes: `label` (up to 32 d-characters) and the files in its root directory. */
export function writeIso9660(label: string, files: readonly IsoFile[], date = new Date()): Buffer {
  const volumeLabel = label.toUpperCase();
  if (!/^[A-Z0-9_]{1,32}$/.test(volumeLabel)) throw new Error(`iso9660: invalid volume label "${label}"`);
  const names = files.map((f) => isoFileName(f.name));
  if (new Set(names).size !== names.length) throw new Error("iso9660: two files map to the same 8.3 name");
  const sorted = files.map((f, i) => ({ ...f, iso: names[i]! })).sort((a, b) => (a.iso < b.iso ? -1 : 1));

  const pvdSector = 16;
  const lPathSector = 18;
  const mPathSector = 19;
  const rootSector = 20;
  let next = rootSector + 1;
  const placed = sorted.map((f) => {
    const extent = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
    return { ...f, extent };
  });
  const totalSectors = next;

  const root = [
    directoryRecord(Buffer.from([0]), rootSector, SECTOR, true, date),
    directoryRecord(Buffer.from([1]), rootSector, SECTOR, true, date),
    ...placed.map((f) => directoryRecord(Buffer.from(f.iso, "ascii"), f.extent, f.data.length, false, date)),
  ];
  const rootBytes = Buffer.concat(root);
  if (rootBytes.length > SECTOR) throw new Error("iso9660: too many files for one directory sector");

  const image = Buffer.alloc(totalSectors * SECTOR);
  const pvd = image.subarray(pvdSector * SECTOR, (pvdSector + 1) * SECTOR);
  pvd[0] = 1;
  pvd.write("CD001", 1, "ascii");
  pvd[6] = 1;
  padded("LINUX", 32).copy(pvd, 8);
  padded(volumeLabel, 32).copy(pvd, 40);
  bothEndian32(totalSectors).copy(pvd, 80);
  bothEndian16(1).copy(pvd, 120);
  bothEndian16(1).copy(pvd, 124);
  bothEndian16(SECTOR).copy(pvd, 128);
  const pathTableSize = 10; // the root's record: 8 bytes + a 1-byte name + 1 pad byte
  bothEndian32(pathTableSize).copy(pvd, 132);
  pvd.writeUInt32LE(lPathSector, 140);
  pvd.writeUInt32BE(mPathSector, 148);
  directoryRecord(Buffer.from([0]), rootSector, SECTOR, true, date).copy(pvd, 156);
  padded("", 623).copy(pvd, 190); // volume set, publisher, preparer, application, file identifiers
  padded("CLOUD-IMAGES", 128).copy(pvd, 574);
  for (const at of [813, 830]) volumeDate(date).copy(pvd, at);
  for (const at of [847, 864])
    Buffer.concat([Buffer.from("0".repeat(16), "ascii"), Buffer.from([0])]).copy(pvd, at);
  pvd[881] = 1;

  const terminator = image.subarray((pvdSector + 1) * SECTOR);
  terminator[0] = 255;
  terminator.write("CD001", 1, "ascii");
  terminator[6] = 1;

  const l = image.subarray(lPathSector * SECTOR);
  l[0] = 1;
  l.writeUInt32LE(rootSector, 2);
  l.writeUInt16LE(1, 6);
  const m = image.subarray(mPathSector * SECTOR);
  m[0] = 1;
  m.writeUInt32BE(rootSector, 2);
  m.writeUInt16BE(1, 6);

  rootBytes.copy(image, rootSector * SECTOR);
  for (const f of placed) f.data.copy(image, f.extent * SECTOR);
  return image;
}
