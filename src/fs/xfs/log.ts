/**
 * Whether the internal log is clean, found as the kernel's log recovery (and xfs_logprint,
 * xfs_repair -n) finds it: every 512-byte log block carries the cycle number of the pass that wrote
 * it, so the head is where that number drops (checked backwards for blocks of iclogs written out of
 * order); the last record before the head is found by its header magic; the log is clean when that
 * record is complete, ends at the head and is a single unmount operation. Record checksums are not
 * verified (the kernel uses them only to trim torn writes off a log that needs replaying anyway).
 */
import { readInto } from "../../disk/source.js";
import { ImageFormatError } from "../../errors.js";
import type { CleanState } from "../types.js";
import type { XfsContext } from "./context.js";

const BB = 512;
const HEADER_MAGIC = 0xfeedbabe;
const XLOG_VERSION_2 = 0x2;
/** Cycle data of one header block covers this many bytes of its record (v2 logs add header blocks). */
const HEADER_CYCLE_SIZE = 32 * 1024;
const MAX_RECORD_BYTES = 256 * 1024;
const UNMOUNT_TRANS = 0x20;
/** The kernel's window for out-of-order iclog writes before the head: 8 iclogs of the largest size. */
const SCAN_BLOCKS = (8 * MAX_RECORD_BYTES) / BB;
/** Log blocks read at once when scanning (forwards for a cycle, backwards to a record header). */
const CHUNK = 128;

/** The cycle number a log block carries: in the header of a record header block, else its first word. */
function cycleAt(buf: Buffer, off: number): number {
  const word = buf.readUInt32BE(off);
  return word === HEADER_MAGIC ? buf.readUInt32BE(off + 4) : word;
}

class Log {
  /**
   * Scans read through this one buffer, straight from the source: the window before the head is 2 MiB,
   * and fresh memory costs more per page here than reading it (nor should it push metadata out of the cache).
   */
  private readonly chunk = Buffer.allocUnsafe(CHUNK * BB);

  constructor(
    private readonly ctx: XfsContext,
    /** Byte offset of log block 0 in the filesystem. */
    private readonly base: number,
    /** Log length in 512-byte blocks. */
    readonly blocks: number,
  ) {}

  read(first: number, count: number): Promise<Buffer> {
    return this.ctx.cache.read(this.base + first * BB, count * BB);
  }

  /** Blocks [first, first + count) (count <= CHUNK) into the scan buffer, valid until the next call. */
  private async scanRead(first: number, count: number): Promise<Buffer> {
    await readInto(this.ctx.cache.source, this.base + first * BB, count * BB, this.chunk, 0);
    return this.chunk;
  }

  async cycle(block: number): Promise<number> {
    return cycleAt(await this.read(block, 1), 0);
  }

  /** The first block with cycle `cycle` in (first, last], given that `first` lacks it and `last` has it. */
  async cycleStart(first: number, last: number, cycle: number): Promise<number> {
    while (last - first > 1) {
      const mid = Math.floor((first + last) / 2);
      if ((await this.cycle(mid)) === cycle) last = mid;
      else first = mid;
    }
    return last;
  }

  /** The first block in [start, start + count) whose cycle is `cycle`, or -1. */
  async findCycle(start: number, count: number, cycle: number): Promise<number> {
    for (let from = start; from < start + count; from += CHUNK) {
      const n = Math.min(CHUNK, start + count - from);
      const buf = await this.scanRead(from, n);
      for (let i = 0; i < n; i++) if (cycleAt(buf, i * BB) === cycle) return from + i;
    }
    return -1;
  }

  /** The nearest record header before `head` (wrapping around the log), or -1 if there is none. */
  async headerBefore(head: number): Promise<number> {
    let p = (head - 1 + this.blocks) % this.blocks;
    for (let seen = 0; seen < this.blocks; ) {
      const from = Math.max(0, p - CHUNK + 1);
      const buf = await this.scanRead(from, p - from + 1);
      for (let i = p; i >= from; i--, seen++) {
        if (buf.readUInt32BE((i - from) * BB) === HEADER_MAGIC) return i;
      }
      p = (from - 1 + this.blocks) % this.blocks;
    }
    return -1;
  }
}

/** Where the head of the log is (the block the next record would be written to), or undefined if zeroed. */
async function findHead(log: Log): Promise<number | undefined> {
  const n = log.blocks;
  const scan = Math.min(SCAN_BLOCKS, n);
  const first = await log.cycle(0);
  if (first === 0) return undefined; // zeroed: nothing was ever written since mkfs or xfs_repair -L
  const last = await log.cycle(n - 1);
  let head: number;
  let stop: number;
  if (last === 0) {
    // Partly zeroed: the log never wrapped; the head is the first block never written.
    head = await log.cycleStart(0, n - 1, 0);
    stop = 0;
  } else if (first === last) {
    // One pass filled the whole log: the head wrapped to the start.
    head = n;
    stop = last - 1;
  } else {
    head = await log.cycleStart(0, n - 1, last);
    stop = last;
  }
  if (head >= scan) {
    const hole = await log.findCycle(head - scan, scan, stop);
    if (hole >= 0) head = hole;
  } else {
    // The window reaches back over the end of the log, written one cycle earlier.
    const hole = await log.findCycle(n - (scan - head), scan - head, stop - 1);
    if (hole >= 0) head = hole;
    else {
      const early = await log.findCycle(0, head, stop);
      if (early >= 0) head = early;
    }
  }
  return head % n;
}

interface RecordHeader {
  readonly block: number;
  readonly cycle: number;
  /** Blocks taken by the header (v2 logs with large records have extension blocks). */
  readonly headerBlocks: number;
  readonly dataBlocks: number;
  readonly ops: number;
}

function parseHeader(log: Log, buf: Buffer, block: number, uuid: Buffer): RecordHeader {
  const bad = (why: string): never => {
    throw new ImageFormatError(`xfs: log record header at log block ${block}: ${why}`);
  };
  const version = buf.readUInt32BE(8);
  if (version !== 1 && version !== XLOG_VERSION_2) bad(`unknown version ${version}`);
  const len = buf.readUInt32BE(12);
  const size = version === XLOG_VERSION_2 ? buf.readUInt32BE(320) : HEADER_CYCLE_SIZE;
  if (size > MAX_RECORD_BYTES) bad(`record size ${size} exceeds ${MAX_RECORD_BYTES}`);
  if (len > MAX_RECORD_BYTES || len > log.blocks * BB) bad(`record length ${len} is impossible`);
  if (version === XLOG_VERSION_2 && !buf.subarray(304, 320).equals(uuid)) {
    bad("the record belongs to another filesystem (UUID mismatch)");
  }
  return {
    block,
    cycle: buf.readUInt32BE(4),
    headerBlocks:
      version === XLOG_VERSION_2 && size > HEADER_CYCLE_SIZE ? Math.ceil(size / HEADER_CYCLE_SIZE) : 1,
    dataBlocks: Math.ceil(len / BB),
    ops: buf.readUInt32BE(40),
  };
}

/** The clean state of the filesystem's internal log. */
export async function logCleanState(ctx: XfsContext): Promise<CleanState> {
  const { sb } = ctx;
  if (sb.logStart === 0) {
    return {
      clean: false,
      detail: "the log is on an external device that the image does not hold: cannot tell",
    };
  }
  const start = ctx.geo.linearBlock(sb.logStart, sb.logBlocks, "log");
  const log = new Log(ctx, start * sb.blockSize, (sb.logBlocks * sb.blockSize) / BB);
  let head = await findHead(log);
  if (head === undefined) {
    // v5 metadata stamped with a later log position than the empty log's is refused by the kernel.
    if (sb.lsnCycle > 0) {
      return {
        clean: false,
        detail: `log zeroed, but metadata was written in log cycle ${sb.lsnCycle}: the kernel refuses to mount until xfs_repair formats the log`,
      };
    }
    return { clean: true, detail: "log clean (zeroed: no records)" };
  }

  // The last record must end exactly at the head; a torn last record moves the head back to its start.
  let record: RecordHeader | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const at = await log.headerBefore(head);
    if (at < 0) throw new ImageFormatError("xfs: the log holds written blocks but no record header");
    record = parseHeader(log, await log.read(at, 1), at, sb.uuidBytes);
    if ((at + record.headerBlocks + record.dataBlocks) % log.blocks === head) break;
    head = at;
    record = undefined;
  }
  if (!record)
    return { clean: false, detail: `log not clean: the records before log block ${head} are torn` };
  const where = `log block ${record.block}, cycle ${record.cycle}`;
  if (record.ops === 1) {
    const op = await log.read((record.block + record.headerBlocks) % log.blocks, 1);
    if (op[9]! & UNMOUNT_TRANS) return { clean: true, detail: `log clean (unmount record at ${where})` };
  }
  return {
    clean: false,
    detail: `log not clean: the last record (${where}) is not an unmount record; mounting replays the log`,
  };
}
