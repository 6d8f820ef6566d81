/**
 * FAT directory entries: 32-byte short (8.3) entries, each optionally preceded by long-name (VFAT)
 * entries that hold its name in UTF-16, last part first, tied to it by a checksum of the short name.
 * A long name whose sequence or checksum does not match is ignored, as Linux ignores it.
 */
import { ImageFormatError } from "../../errors.js";

export const ENTRY = 32;
export const ATTR = { READ_ONLY: 0x01, VOLUME: 0x08, DIR: 0x10, LFN: 0x0f } as const;
/** NT reserved byte flags: show the short base name or extension in lower case. */
const LOWER_BASE = 0x08;
const LOWER_EXT = 0x10;

/** Code page 437, bytes 0x80-0xFF: Linux's default for short names (codepage=437). */
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

export interface RawEntry {
  readonly name: string;
  /** The short entry's absolute byte offset: its identity (the inode number is offset / 32). */
  readonly offset: number;
  readonly attr: number;
}

function shortName(e: Buffer, at: number): string {
  const decode = (from: number, to: number, lower: boolean) => {
    let s = "";
    for (let i = from; i < to; i++) {
      let c = e[at + i]!;
      if (i === 0 && c === 0x05) c = 0xe5; // a real 0xE5 first byte, escaped (0xE5 marks deleted)
      s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80]!;
    }
    s = s.replace(/ +$/, "");
    return lower ? s.toLowerCase() : s;
  };
  const flags = e[at + 12]!;
  const base = decode(0, 8, (flags & LOWER_BASE) !== 0);
  const ext = decode(8, 11, (flags & LOWER_EXT) !== 0);
  return ext ? `${base}.${ext}` : base;
}

/** The checksum of the 11 short-name bytes that every long-name entry of that file carries. */
function shortNameChecksum(e: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + e[at + i]!) & 0xff;
  return sum;
}

/** The 13 UTF-16 code units of one long-name entry. */
function lfnUnits(e: Buffer, at: number): number[] {
  const units: number[] = [];
  for (const [from, to] of [
    [1, 11],
    [14, 26],
    [28, 32],
  ] as const) {
    for (let i = from; i < to; i += 2) units.push(e.readUInt16LE(at + i));
  }
  return units;
}

/** A long name being assembled: its parts by sequence number (1-based) and the checksum they carry. */
interface PendingLfn {
  readonly checksum: number;
  readonly parts: number[][];
  next: number;
}

/**
 * Parses the entries in `buf` (directory bytes starting at absolute `offset`), appending to `out`.
 * Returns false when the end-of-directory marker was reached. `pending` carries a long name across
 * cluster boundaries.
 */
export function parseEntries(
  buf: Buffer,
  offset: number,
  out: RawEntry[],
  state: { pending?: PendingLfn },
  dirWhat: string,
): boolean {
  for (let at = 0; at + ENTRY <= buf.length; at += ENTRY) {
    const first = buf[at]!;
    if (first === 0x00) return false;
    const attr = buf[at + 11]!;
    if (first === 0xe5) {
      state.pending = undefined;
      continue;
    }
    if ((attr & 0x3f) === ATTR.LFN) {
      const seq = first & 0x1f;
      if (first & 0x40) state.pending = { checksum: buf[at + 13]!, parts: [], next: seq };
      const p = state.pending;
      if (!p || seq !== p.next || seq === 0 || buf[at + 13] !== p.checksum) state.pending = undefined;
      else {
        p.parts[seq - 1] = lfnUnits(buf, at);
        p.next = seq - 1;
      }
      continue;
    }
    const pending = state.pending;
    state.pending = undefined;
    if (attr & ATTR.VOLUME) continue;
    const short = shortName(buf, at);
    if (short === "." || short === "..") continue;
    let name = short;
    if (pending && pending.next === 0 && pending.checksum === shortNameChecksum(buf, at)) {
      const units = pending.parts.flat();
      const end = units.indexOf(0);
      const long = String.fromCharCode(...(end < 0 ? units : units.slice(0, end)));
      if (long.length > 0 && !/[/\0]/.test(long)) name = long;
    }
    if (name.length === 0 || /[/\0]/.test(name)) {
      throw new ImageFormatError(`fat: ${dirWhat}: entry at byte ${offset + at} has an invalid name`);
    }
    out.push({ name, offset: offset + at, attr });
  }
  return true;
}
