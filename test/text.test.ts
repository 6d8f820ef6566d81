/** Terminal escaping of text from images (src/text.ts): what is escaped, and that it reverses exactly. */
import { describe, expect, it } from "vitest";
import { escapeTerminal, unescapeTerminal } from "../src/text.js";

describe("escapeTerminal", () => {
  it("escapes control sequences, CR, BEL, DEL and C1 controls byte by byte", () => {
    expect(escapeTerminal("a\x1b[2J\x1b[31mred")).toBe("a\\x1b[2J\\x1b[31mred");
    expect(escapeTerminal("cr\rbel\x07tab\tnl\ndel\x7f")).toBe("cr\\x0dbel\\x07tab\\x09nl\\x0adel\\x7f");
    // U+009B is a one-character CSI on some terminals; it is escaped as its two UTF-8 bytes.
    expect(escapeTerminal("csi\u009b2J")).toBe("csi\\xc2\\x9b2J");
  });

  it("keeps printable text, including non-ASCII, as it is", () => {
    for (const s of ["plain", "ünïcødé ✓ 名前", "emoji 🙂", "x=1 \"quoted\" 'single'"]) {
      expect(escapeTerminal(s)).toBe(s);
    }
  });

  it("escapes bytes that are not UTF-8 (stray, truncated, overlong, surrogates) and keeps valid ones", () => {
    const raw = Buffer.from([
      0x61, 0xff, 0xc3, 0x28, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe2, 0x82, 0xac, 0xf0, 0x9f,
    ]);
    expect(escapeTerminal(raw)).toBe("a\\xff\\xc3(\\xc0\\xaf\\xed\\xa0\\x80€\\xf0\\x9f");
  });

  it("doubles backslashes for names, or leaves them for our own lines", () => {
    expect(escapeTerminal("C:\\dir\\x41")).toBe("C:\\\\dir\\\\x41");
    expect(escapeTerminal("C:\\dir\x1b", { backslash: false })).toBe("C:\\dir\\x1b");
  });

  it("is reversed by unescapeTerminal for any bytes", () => {
    const samples = [
      Buffer.from("a\x1b[2J\r\x07\\x41\\\\"),
      Buffer.from([0, 1, 0x5c, 0x78, 0x34, 0x31, 0xff, 0xfe, 0x80, 0xc2, 0x85]),
      Buffer.from("ünï\\✓"),
    ];
    for (let seed = 1; seed < 200; seed++) {
      samples.push(Buffer.from(Array.from({ length: seed % 17 }, (_, i) => (seed * 31 + i * 97) & 0xff)));
    }
    for (const b of samples) {
      const escaped = escapeTerminal(b);
      expect(escaped).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
      expect(unescapeTerminal(escaped).equals(b), escaped).toBe(true);
    }
  });

  it("leaves backslashes that do not start an escape as they are when unescaping", () => {
    expect(unescapeTerminal("a\\b\\xZZ\\x4").toString()).toBe("a\\b\\xZZ\\x4");
  });
});
