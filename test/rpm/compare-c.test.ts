import { describe, expect, it } from "vitest";
import { compareC } from "../../src/rpm/index.js";

/** The definition: byte order of the UTF-8 encodings (as `LC_ALL=C sort`). */
const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

describe("compareC", () => {
  // Names where UTF-16 order and UTF-8 order disagree: an astral character (a surrogate pair) against
  // U+E000..U+FFFF, lone surrogates (encoded as U+FFFD), and plain ASCII and Latin-1 around them.
  const samples = [
    "",
    "a",
    "A",
    "a-b",
    "a_b",
    "a.b",
    "kernel",
    "kernel-core",
    "z",
    "é",
    "\u00ff",
    "\u0100",
    "\ud7ff",
    "\ue000",
    "\uff01",
    "\ufffd",
    "\uffff",
    "😀",
    "a😀",
    "a\uffff",
    "\ud800",
    "\udfff",
    "x\ud800y",
  ];

  it("orders every pair as their UTF-8 bytes do", () => {
    for (const a of samples)
      for (const b of samples)
        expect(Math.sign(compareC(a, b)), `${JSON.stringify([a, b])}`).toBe(bytewise(a, b));
  });

  it("sorts like the byte order, astral characters after U+FFFF", () => {
    expect(["😀", "\uffff", "a", "\ue000"].sort(compareC)).toEqual(["a", "\ue000", "\uffff", "😀"]);
  });
});
