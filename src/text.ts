/** Text helpers shared by the layers. */

/** Keeps error messages one line and free of control characters when echoing bad input. */
export function printable(s: string, max = 60): string {
  const clean = s.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A URL without user name and password (they must never reach a message or a log). */
export function redactUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}

/** The same for a string that may not parse as a URL. */
export function redactUrlText(s: string): string {
  return s.replace(/\/\/[^/@]*@/, "//");
}

/** Code points a terminal acts on instead of showing (C0 controls, DEL, C1 controls), backslash, lone surrogates. */
const NEEDS_ESCAPE = /[\x00-\x1f\x7f-\x9f\\\uD800-\uDFFF]/;
const NEEDS_ESCAPE_NO_BACKSLASH = /[\x00-\x1f\x7f-\x9f\uD800-\uDFFF]/;

/**
 * Text from an image (file names, link targets, os-release values, labels) made safe to print on a
 * terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8 become `\xNN` (one per byte
 * of their UTF-8 or raw form), a backslash becomes `\\`; everything else is kept. unescapeTerminal
 * reverses it, so a printed name can be typed back to address the file. With `backslash: false`
 * backslashes stay as they are (for lines of our own text that may embed image text).
 */
export function escapeTerminal(text: string | Uint8Array, options: { backslash?: boolean } = {}): string {
  const backslash = options.backslash ?? true;
  if (typeof text === "string") {
    if (!(backslash ? NEEDS_ESCAPE : NEEDS_ESCAPE_NO_BACKSLASH).test(text)) return text;
    text = Buffer.from(text, "utf8");
  }
  let out = "";
  let i = 0;
  while (i < text.length) {
    const n = utf8SequenceLength(text, i);
    if (n === 0) {
      out += hexByte(text[i]!);
      i++;
      continue;
    }
    const ch = Buffer.from(text.buffer, text.byteOffset + i, n).toString("utf8");
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      for (let k = i; k < i + n; k++) out += hexByte(text[k]!);
    } else out += code === 0x5c && backslash ? "\\\\" : ch;
    i += n;
  }
  return out;
}

/** The bytes an escapeTerminal result stands for: `\xNN` is a byte, `\\` a backslash. */
export function unescapeTerminal(text: string): Buffer {
  const parts: Buffer[] = [];
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const hex = c === "\\" && text[i + 1] === "x" ? /^[0-9a-fA-F]{2}/.exec(text.slice(i + 2, i + 4)) : null;
    if (hex) {
      parts.push(Buffer.from(literal, "utf8"), Buffer.from([Number.parseInt(hex[0], 16)]));
      literal = "";
      i += 3;
    } else if (c === "\\" && text[i + 1] === "\\") {
      literal += "\\";
      i++;
    } else literal += c;
  }
  parts.push(Buffer.from(literal, "utf8"));
  return Buffer.concat(parts);
}

function hexByte(b: number): string {
  return `\\x${b.toString(16).padStart(2, "0")}`;
}

/** Length of the well-formed UTF-8 sequence at `i` (no overlongs, surrogates or values past U+10FFFF), or 0. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const c1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const c1 = b[i + 1] ?? 0;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
