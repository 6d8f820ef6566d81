/**
 * Read-only qcow2 (versions 2 and 3) as a ByteSource over the image file. Follows qemu's
 * docs/interop/qcow2.txt: header and extensions, L1/L2 tables, zlib and zstd compressed clusters,
 * zero clusters. Refuses what it cannot read faithfully: backing files, encryption, external data
 * files, extended L2 entries and unknown incompatible features.
 */
import { inflateRawSync, constants as zlibConstants } from "node:zlib";
import { ImageFormatError } from "../errors.js";
import { LruCache } from "./lru.js";
import { type ByteSource, checkRange, readInto } from "./source.js";
import { zstdFrame } from "./zstd-frame.js";

export const QCOW2_MAGIC = Buffer.from("QFI\xfb", "latin1");

export type Qcow2Compression = "zlib" | "zstd";

export interface Qcow2Info {
  readonly version: 2 | 3;
  readonly clusterSize: number;
  readonly virtualSize: number;
  readonly compressionType: Qcow2Compression;
  readonly refcountBits: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly snapshots: number;
  /** Incompatible bit 0: refcounts may be stale (harmless for reading). */
  readonly dirty: boolean;
  /** Incompatible bit 1: qemu found an inconsistency; data may be wrong. */
  readonly corrupt: boolean;
  readonly lazyRefcounts: boolean;
}

export interface Qcow2Options {
  /** Names the image in error messages (usually its path). */
  name?: string;
  /** Budget for cached L2 tables (at least one table is always kept). */
  l2CacheBytes?: number;
  /** Budget for cached decompressed clusters (at least one cluster is always kept). */
  clusterCacheBytes?: number;
}

/** qemu's own limit on the active L1 table. */
const MAX_L1_BYTES = 32 * 1024 * 1024;
const V2_HEADER_LENGTH = 72;
const V3_HEADER_LENGTH = 104;
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;

const INCOMPAT_DIRTY = 1;
const INCOMPAT_CORRUPT = 2;
const INCOMPAT_DATA_FILE = 4;
const INCOMPAT_COMPRESSION = 8;
const INCOMPAT_EXTL2 = 16;
const KNOWN_INCOMPAT = 31;

const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_NAMES = 0x6803f857;
const EXT_DATA_FILE = 0x44415441;

const KIB = 1024;
const MIB = 1024 * KIB;
const TWO32 = 2 ** 32;

interface CompressedMapping {
  readonly kind: "compressed";
  readonly host: number;
  /** Upper bound of the compressed bytes (clipped to the end of the file). */
  readonly length: number;
}
type ClusterMapping =
  | { readonly kind: "zero" }
  | { readonly kind: "data"; readonly host: number }
  | CompressedMapping;

/** Largest run of compressed bytes fetched with one read. */
const MAX_COMPRESSED_BATCH = 4 * 1024 * 1024;

function isFollowingData(a: ClusterMapping, b: ClusterMapping, clusterSize: number): boolean {
  return a.kind === "data" && b.kind === "data" && b.host === a.host + clusterSize;
}

/** Does b start inside or right after a's compressed bytes? */
function isFollowingCompressed(a: ClusterMapping, b: ClusterMapping): boolean {
  return (
    a.kind === "compressed" && b.kind === "compressed" && b.host >= a.host && b.host <= a.host + a.length
  );
}

const ZERO: ClusterMapping = { kind: "zero" };

type ZstdDecompress = typeof import("./zstd-decompress.js").decompress;

interface ParsedHeader {
  info: Qcow2Info;
  clusterBits: number;
}

/** Opens a qcow2 image; `file` is the image file (or any source holding its bytes). */
export async function openQcow2(file: ByteSource, options: Qcow2Options = {}): Promise<Qcow2Source> {
  const name = options.name ?? "qcow2 image";
  const { info, clusterBits } = await readHeader(file, name);
  const l1Entries = Math.min(info.l1Size, l1EntriesNeeded(info.virtualSize, clusterBits));
  const l1 = l1Entries > 0 ? await file.read(info.l1TableOffset, l1Entries * 8) : Buffer.alloc(0);
  // Loaded only for zstd images: loading it costs every other command about 2.5 ms.
  const zstd = info.compressionType === "zstd" ? (await import("./zstd-decompress.js")).decompress : null;
  return new Qcow2Source(file, info, clusterBits, l1, name, zstd, options);
}

export class Qcow2Source implements ByteSource {
  readonly size: number;
  readonly clusterSize: number;
  private readonly l2Cache: LruCache<number, Promise<Buffer>>;
  private readonly clusterCache: LruCache<number, Promise<Buffer>>;
  /** Reused for runs of compressed bytes (null while a read holds it). */
  private rawScratch: Buffer | null = null;

  constructor(
    private readonly file: ByteSource,
    readonly info: Qcow2Info,
    private readonly clusterBits: number,
    private readonly l1: Buffer,
    private readonly name: string,
    /** fzstd's decompress, for images whose compression type is zstd. */
    private readonly zstd: ZstdDecompress | null,
    options: Qcow2Options = {},
  ) {
    this.size = info.virtualSize;
    this.clusterSize = info.clusterSize;
    this.l2Cache = new LruCache(options.l2CacheBytes ?? 2 * MIB);
    this.clusterCache = new LruCache(options.clusterCacheBytes ?? 4 * MIB);
  }

  /** Bytes currently held by the L2 and decompressed-cluster caches. */
  get cachedBytes(): number {
    return this.l2Cache.cost + this.clusterCache.cost;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    await this.readInto(offset, length, out, 0);
    return out;
  }

  async readInto(offset: number, length: number, out: Buffer, at: number): Promise<void> {
    checkRange(this, offset, length, this.name);
    if (length === 0) return;
    const cs = this.clusterSize;
    const end = offset + length;
    const firstCluster = Math.floor(offset / cs);
    const maps: ClusterMapping[] = [];
    for (let c = firstCluster; c <= Math.floor((end - 1) / cs); c++) maps.push(await this.mapCluster(c));
    // Guest bytes [from, to) of clusters i..j-1 of this read.
    const from = (i: number) => Math.max(offset, (firstCluster + i) * cs);
    const to = (j: number) => Math.min(end, (firstCluster + j) * cs);
    let i = 0;
    while (i < maps.length) {
      const m = maps[i]!;
      let j = i + 1;
      if (m.kind === "zero") {
        while (j < maps.length && maps[j]!.kind === "zero") j++;
        out.fill(0, at + from(i) - offset, at + to(j) - offset);
      } else if (m.kind === "data") {
        // Guest clusters that are also contiguous in the file: one read.
        while (j < maps.length && isFollowingData(maps[j - 1]!, maps[j]!, cs)) j++;
        const start = from(i);
        await this.readHost(m.host + (start % cs), to(j) - start, out, at + start - offset);
      } else {
        // Compressed clusters stored back to back (as qemu-img convert -c writes them): one read.
        let span = m.length;
        while (
          j < maps.length &&
          span < MAX_COMPRESSED_BATCH &&
          isFollowingCompressed(maps[j - 1]!, maps[j]!)
        ) {
          span += (maps[j] as { length: number }).length;
          j++;
        }
        const clusters = await this.compressedRun(maps.slice(i, j) as CompressedMapping[]);
        clusters.forEach((data, k) => {
          const start = from(i + k);
          data.copy(out, at + start - offset, start % cs, to(i + k + 1) - (firstCluster + i + k) * cs);
        });
      }
      i = j;
    }
  }

  /** Where guest cluster `index` lives. */
  private async mapCluster(index: number): Promise<ClusterMapping> {
    const l2Entries = this.clusterSize / 8;
    const l1Index = Math.floor(index / l2Entries);
    if (l1Index * 8 >= this.l1.length) return ZERO;
    const l2Offset = entryOffset(this.l1, l1Index * 8);
    if (l2Offset === 0) return ZERO;
    const l2 = await this.l2Table(l2Offset);
    const at = (index % l2Entries) * 8;
    const hi = l2.readUInt32BE(at);
    const lo = l2.readUInt32BE(at + 4);
    const guest = index * this.clusterSize;
    if (hi & 0x40000000) return this.compressedMapping(hi, lo, guest);
    if (this.info.version === 3 && lo & 1) return ZERO;
    const host = entryOffset(l2, at);
    if (host === 0) return ZERO;
    if (host % this.clusterSize !== 0) {
      throw this.error(`the L2 entry for guest offset ${guest} points to unaligned host offset ${host}`);
    }
    if (host >= this.file.size) {
      throw this.error(
        `the data cluster for guest offset ${guest} is at ${host}, past the end of the file (${this.file.size} bytes)`,
      );
    }
    return { kind: "data", host };
  }

  private compressedMapping(hi: number, lo: number, guest: number): ClusterMapping {
    const entry = (BigInt(hi) << 32n) | BigInt(lo);
    const x = BigInt(62 - (this.clusterBits - 8));
    const host = Number(entry & ((1n << x) - 1n));
    const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n));
    if (host >= this.file.size) {
      throw this.error(
        `the compressed cluster for guest offset ${guest} is at ${host}, past the end of the file (${this.file.size} bytes)`,
      );
    }
    // The sector count is an upper bound; the data may end before it (or before the end of the file).
    const length = Math.min((sectors + 1) * 512 - (host % 512), this.file.size - host);
    return { kind: "compressed", host, length };
  }

  private l2Table(offset: number): Promise<Buffer> {
    const cached = this.l2Cache.get(offset);
    if (cached) return cached;
    if (offset % this.clusterSize !== 0) throw this.error(`L2 table offset ${offset} is not cluster-aligned`);
    if (offset + this.clusterSize > this.file.size) {
      throw this.error(`an L2 table at ${offset} lies past the end of the file (${this.file.size} bytes)`);
    }
    const table = this.file.read(offset, this.clusterSize);
    this.l2Cache.set(offset, table, this.clusterSize);
    table.catch(() => this.l2Cache.delete(offset));
    return table;
  }

  /** The decompressed clusters of a run, fetching the uncached ones with a single read. */
  private async compressedRun(run: readonly CompressedMapping[]): Promise<Buffer[]> {
    const missing = run.filter((m) => !this.clusterCache.get(m.host));
    if (missing.length >= 2) {
      const start = missing[0]!.host;
      const stop = Math.min(this.file.size, Math.max(...missing.map((m) => m.host + m.length)));
      // The compressed bytes are only needed until they are inflated: read them into reused memory
      // (unless another read holds it).
      const size = stop - start;
      const scratch = this.rawScratch !== null && this.rawScratch.length >= size ? this.rawScratch : null;
      const raw = scratch ?? Buffer.allocUnsafe(size);
      this.rawScratch = null;
      const fetched = new Map<number, Buffer>();
      try {
        await readInto(this.file, start, size, raw, 0);
        for (const m of missing) {
          const data = this.decompress(raw.subarray(m.host - start, m.host - start + m.length), m.host);
          fetched.set(m.host, data);
          this.clusterCache.set(m.host, Promise.resolve(data), this.clusterSize);
        }
      } finally {
        this.rawScratch = raw.length >= (scratch?.length ?? 0) ? raw : scratch;
      }
      // The run may be larger than the cache: use what was just decompressed, not the cache.
      return Promise.all(run.map((m) => fetched.get(m.host) ?? this.compressedCluster(m)));
    }
    return Promise.all(run.map((m) => this.compressedCluster(m)));
  }

  private compressedCluster(m: CompressedMapping): Promise<Buffer> {
    const cached = this.clusterCache.get(m.host);
    if (cached) return cached;
    const data = this.file.read(m.host, m.length).then((raw) => this.decompress(raw, m.host));
    this.clusterCache.set(m.host, data, this.clusterSize);
    data.catch(() => this.clusterCache.delete(m.host));
    return data;
  }

  private decompress(raw: Buffer, host: number): Buffer {
    const cs = this.clusterSize;
    let out: Uint8Array;
    try {
      if (this.info.compressionType === "zlib") {
        // No end-of-stream check: qemu accepts a stream once it has produced a whole cluster.
        // One output chunk one byte larger than a cluster: no pieces to concatenate, and Node allocates
        // no second chunk (it does when the first is filled exactly: 64 KiB more memory per cluster).
        out = inflateRawSync(raw, {
          finishFlush: zlibConstants.Z_SYNC_FLUSH,
          maxOutputLength: cs,
          chunkSize: cs + 1,
        });
      } else {
        const zstdDecompress = this.zstd!;
        const frame = zstdFrame(raw);
        const data = raw.subarray(0, frame.length);
        if (frame.contentSize !== undefined && frame.contentSize !== cs) {
          throw new Error(`the frame declares ${frame.contentSize} bytes`);
        }
        // fzstd is several times faster when it sizes the output itself, which it does safely only
        // when the frame declares its size (qemu's do); otherwise it writes into a bounded buffer.
        out =
          frame.contentSize === undefined ? zstdDecompress(data, new Uint8Array(cs)) : zstdDecompress(data);
      }
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw this.error(
        `the ${this.info.compressionType} compressed cluster at host offset ${host} is corrupt (${why})`,
        e,
      );
    }
    if (out.length !== cs) {
      throw this.error(
        `the compressed cluster at host offset ${host} holds ${out.length} bytes instead of ${cs}`,
      );
    }
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  }

  private async readHost(host: number, length: number, out: Buffer, at: number): Promise<void> {
    // A last cluster cut short by the end of the file reads as zeros past the end, as in qemu.
    const available = Math.max(0, Math.min(length, this.file.size - host));
    if (available > 0) await readInto(this.file, host, available, out, at);
    out.fill(0, at + available, at + length);
  }

  private error(message: string, cause?: unknown): ImageFormatError {
    return new ImageFormatError(
      `${this.name}: qcow2: ${message}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** Bits 9-55 of a big-endian 64-bit table entry (L1 entries and standard L2 descriptors). */
function entryOffset(table: Buffer, at: number): number {
  const hi = table.readUInt32BE(at) & 0x00ffffff;
  const lo = table.readUInt32BE(at + 4) & 0xfffffe00;
  return hi * TWO32 + (lo >>> 0);
}

function l1EntriesNeeded(virtualSize: number, clusterBits: number): number {
  const bytesPerL2 = 2 ** clusterBits * (2 ** clusterBits / 8);
  return Math.ceil(virtualSize / bytesPerL2);
}

function u64(buf: Buffer, at: number, what: string, name: string): number {
  const v = buf.readBigUInt64BE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ImageFormatError(`${name}: qcow2: ${what} ${v} is out of range`);
  }
  return Number(v);
}

async function readHeader(file: ByteSource, name: string): Promise<ParsedHeader> {
  const fail = (message: string): never => {
    throw new ImageFormatError(`${name}: qcow2: ${message}`);
  };
  if (file.size < V2_HEADER_LENGTH) fail(`the file is too short for a header (${file.size} bytes)`);
  const first = await file.read(0, Math.min(file.size, 4 * KIB));
  if (!first.subarray(0, 4).equals(QCOW2_MAGIC)) fail("bad magic (not a qcow2 image)");
  const version = first.readUInt32BE(4);
  if (version === 1) fail("qcow version 1 is not supported: convert it with qemu-img convert -O qcow2");
  if (version !== 2 && version !== 3) fail(`unsupported version ${version} (2 and 3 are supported)`);
  if (version === 3 && first.length < V3_HEADER_LENGTH) fail("the file is too short for a version 3 header");

  const clusterBits = first.readUInt32BE(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    fail(`cluster_bits ${clusterBits} is outside 9..21 (512 B to 2 MiB clusters)`);
  }
  const clusterSize = 2 ** clusterBits;
  const virtualSize = u64(first, 24, "virtual size", name);
  const cryptMethod = first.readUInt32BE(32);
  const l1Size = first.readUInt32BE(36);
  const l1TableOffset = u64(first, 40, "L1 table offset", name);
  const snapshots = first.readUInt32BE(60);

  let incompatible = 0n;
  let compatible = 0n;
  let refcountOrder = 4;
  let headerLength = V2_HEADER_LENGTH;
  let compressionField = 0;
  if (version === 3) {
    incompatible = first.readBigUInt64BE(72);
    compatible = first.readBigUInt64BE(80);
    refcountOrder = first.readUInt32BE(96);
    headerLength = first.readUInt32BE(100);
    if (headerLength < V3_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > clusterSize) {
      fail(`header_length ${headerLength} is invalid (a multiple of 8, at least 104)`);
    }
    if (headerLength > 104) {
      if (first.length < 105) fail("the file ends inside the header");
      compressionField = first[104]!;
    }
  }
  if (refcountOrder > 6) fail(`refcount_order ${refcountOrder} is invalid (at most 6)`);

  // Extensions live in the first cluster; most end within the first 4 KiB already read.
  const clusterEnd = Math.min(file.size, clusterSize);
  let ext = readExtensions(first.subarray(0, clusterEnd), headerLength, clusterEnd, fail);
  if (!ext) ext = readExtensions(await file.read(0, clusterEnd), headerLength, clusterEnd, fail)!;

  const unknown = incompatible & ~BigInt(KNOWN_INCOMPAT);
  if (unknown !== 0n) {
    const names: string[] = [];
    for (let bit = 0; bit < 64; bit++) {
      if ((unknown >> BigInt(bit)) & 1n) names.push(ext.featureNames.get(bit) ?? `bit ${bit}`);
    }
    fail(`unknown incompatible features (${names.join(", ")}); this reader cannot open the image`);
  }
  const bits = Number(incompatible & BigInt(KNOWN_INCOMPAT));
  if (bits & INCOMPAT_EXTL2) {
    fail("extended L2 entries (subclusters) are not supported: convert with qemu-img convert -O qcow2");
  }
  if (bits & INCOMPAT_DATA_FILE) {
    const which = ext.dataFile === undefined ? "" : ` ${JSON.stringify(ext.dataFile)}`;
    fail(`an external data file${which} is not supported: convert with qemu-img convert -O qcow2`);
  }
  if (cryptMethod !== 0) {
    const kind = cryptMethod === 1 ? "AES" : cryptMethod === 2 ? "LUKS" : `method ${cryptMethod}`;
    fail(`encrypted images (${kind}) are not supported`);
  }
  const backingOffset = u64(first, 8, "backing file offset", name);
  if (backingOffset !== 0) {
    const backingSize = first.readUInt32BE(16);
    let backing = "";
    if (backingSize <= 1023 && backingOffset + backingSize <= file.size) {
      backing = (await file.read(backingOffset, backingSize)).toString("utf8");
    }
    fail(`backing file ${JSON.stringify(backing)} is not supported: flatten with qemu-img convert -O qcow2`);
  }

  let compressionType: Qcow2Compression = "zlib";
  if (bits & INCOMPAT_COMPRESSION) {
    if (compressionField === 1) compressionType = "zstd";
    else fail(`unsupported compression type ${compressionField} (0 zlib and 1 zstd are supported)`);
  } else if (compressionField !== 0) {
    fail(`compression type ${compressionField} is set without the compression-type feature bit`);
  }

  // The L1 table: aligned, no larger than qemu allows, large enough for the disk, inside the file.
  if (l1TableOffset % clusterSize !== 0) fail(`the L1 table offset ${l1TableOffset} is not cluster-aligned`);
  if (l1Size * 8 > MAX_L1_BYTES) fail(`the L1 table is too large (${l1Size} entries)`);
  const needed = l1EntriesNeeded(virtualSize, clusterBits);
  if (needed * 8 > MAX_L1_BYTES) {
    fail(`the virtual size ${virtualSize} is too large for ${clusterSize}-byte clusters`);
  }
  if (l1Size < needed) {
    fail(`the L1 table has ${l1Size} entries, too few for a ${virtualSize}-byte disk (needs ${needed})`);
  }
  if (needed > 0 && (l1TableOffset === 0 || l1TableOffset + needed * 8 > file.size)) {
    fail(`the L1 table at ${l1TableOffset} (${needed * 8} bytes) lies past the end of the file`);
  }

  const info: Qcow2Info = {
    version: version as 2 | 3,
    clusterSize,
    virtualSize,
    compressionType,
    refcountBits: 2 ** refcountOrder,
    l1Size,
    l1TableOffset,
    snapshots,
    dirty: (bits & INCOMPAT_DIRTY) !== 0,
    corrupt: (bits & INCOMPAT_CORRUPT) !== 0,
    lazyRefcounts: (compatible & 1n) === 1n,
  };
  return { info, clusterBits };
}

interface Extensions {
  featureNames: Map<number, string>;
  backingFormat?: string;
  dataFile?: string;
}

/**
 * Header extensions follow the header inside the first cluster (`clusterEnd` bytes); the list ends
 * with type 0. Returns undefined when `head` is shorter than the cluster and ends inside the list.
 */
function readExtensions(
  head: Buffer,
  start: number,
  clusterEnd: number,
  fail: (m: string) => never,
): Extensions | undefined {
  const ext: Extensions = { featureNames: new Map() };
  let at = start;
  while (at + 8 <= clusterEnd) {
    if (at + 8 > head.length) return undefined;
    const type = head.readUInt32BE(at);
    const length = head.readUInt32BE(at + 4);
    if (type === EXT_END) break;
    const dataStart = at + 8;
    if (dataStart + length > clusterEnd)
      fail(`header extension 0x${type.toString(16)} overruns the first cluster`);
    if (dataStart + length > head.length) return undefined;
    const data = head.subarray(dataStart, dataStart + length);
    if (type === EXT_FEATURE_NAMES) {
      for (let i = 0; i + 48 <= data.length; i += 48) {
        if (data[i] !== 0) continue; // only incompatible feature names are used in messages
        const raw = data.subarray(i + 2, i + 48);
        const nul = raw.indexOf(0);
        ext.featureNames.set(data[i + 1]!, raw.subarray(0, nul < 0 ? raw.length : nul).toString("utf8"));
      }
    } else if (type === EXT_BACKING_FORMAT) {
      ext.backingFormat = data.toString("utf8");
    } else if (type === EXT_DATA_FILE) {
      ext.dataFile = data.toString("utf8");
    }
    at = dataStart + Math.ceil(length / 8) * 8;
  }
  return ext;
}
