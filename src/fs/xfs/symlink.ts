/** Symbolic link targets: inline in the inode, or in remote blocks (v5: each extent has a header). */
import { ImageFormatError } from "../../errors.js";
import { checkV5Header, type XfsContext } from "./context.js";
import { extentsInRange } from "./extents.js";
import { FORMAT, type XfsInode } from "./inode.js";

const SYMLINK_MAXLEN = 1024;
const XSLM_MAGIC = 0x58534c4d; // "XSLM"
const XSLM_HDR = 56;

const utf8 = new TextDecoder("utf-8");

function bad(ino: number, what: string): never {
  throw new ImageFormatError(`xfs: symlink inode ${ino}: ${what}`);
}

/** The raw bytes of a symlink's target. */
export async function readSymlinkBytes(ctx: XfsContext, inode: XfsInode): Promise<Buffer> {
  const { ino } = inode;
  const size = inode.stat.size;
  if (inode.stat.type !== "symlink") throw new ImageFormatError(`xfs: inode ${ino} is not a symbolic link`);
  if (size < 1 || size > SYMLINK_MAXLEN) bad(ino, `target length ${size} is outside 1..${SYMLINK_MAXLEN}`);
  if (inode.data.format === FORMAT.LOCAL) {
    const fork = inode.data.bytes;
    if (size > fork.length) bad(ino, `inline target of ${size} bytes exceeds the data fork`);
    return Buffer.from(fork.subarray(0, size));
  }
  const { sb } = ctx;
  const v5 = sb.version === 5;
  const perBlock = sb.blockSize - (v5 ? XSLM_HDR : 0);
  const blocks = Math.ceil(size / perBlock);
  const extents = await extentsInRange(ctx, inode, 0, blocks);
  const parts: Buffer[] = [];
  let have = 0;
  let fileBlock = 0;
  for (const e of extents) {
    if (e.fileBlock !== fileBlock) bad(ino, `hole at file block ${fileBlock} in the target`);
    if (e.unwritten) bad(ino, "target block is unwritten");
    // The kernel allocates exactly `blocks` blocks; more would be a corrupt (possibly huge) mapping.
    if (fileBlock + e.count > blocks) bad(ino, `target is mapped to more than ${blocks} blocks`);
    const count = e.count;
    const byteOffset = e.block * sb.blockSize;
    const buf = await ctx.cache.read(byteOffset, count * sb.blockSize);
    const want = size - have;
    if (v5) {
      // One header per extent: the kernel reads and checksums each mapping as one buffer.
      const magic = buf.readUInt32BE(0);
      if (magic !== XSLM_MAGIC) bad(ino, `remote block has bad magic 0x${magic.toString(16)}`);
      const what = `symlink inode ${ino} remote block`;
      checkV5Header(ctx, buf, { crc: 12, blkno: 40, uuid: 16, owner: 32 }, { byteOffset, owner: ino }, what);
      const offset = buf.readUInt32BE(4);
      const bytes = buf.readUInt32BE(8);
      if (offset !== have || bytes > buf.length - XSLM_HDR || bytes > want || bytes === 0) {
        bad(ino, `remote block header claims ${bytes} bytes at offset ${offset}`);
      }
      parts.push(buf.subarray(XSLM_HDR, XSLM_HDR + bytes));
      have += bytes;
    } else {
      const take = Math.min(want, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
    }
    fileBlock += count;
    if (have === size) break;
  }
  if (have !== size) bad(ino, `only ${have} of ${size} target bytes are mapped`);
  return Buffer.concat(parts);
}

export async function readSymlink(ctx: XfsContext, inode: XfsInode): Promise<string> {
  return utf8.decode(await readSymlinkBytes(ctx, inode));
}
