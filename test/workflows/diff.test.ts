// unifiedDiff against GNU patch: applying our diff to the old text must give the new text.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/workflows/diff.js";

const dir = mkdtempSync(join(tmpdir(), "ci-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function patched(before: string, diff: string): string {
  const file = join(dir, "f.txt");
  writeFileSync(file, before);
  execFileSync("patch", ["--quiet", "--no-backup-if-mismatch", file], { input: diff });
  return readFileSync(file, "utf8");
}

/** Deterministic pseudo-random edits of a 200-line text. */
function mutate(lines: string[], seed: number): string[] {
  let s = seed;
  const rnd = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const out = [...lines];
  for (let k = 0; k < 1 + rnd(12); k++) {
    const at = rnd(out.length + 1);
    const op = rnd(3);
    if (op === 0) out.splice(at, 1);
    else if (op === 1) out.splice(at, 0, `inserted ${seed}-${k}`);
    else out.splice(at, 1, `changed ${seed}-${k}`);
  }
  return out;
}

describe("unifiedDiff", () => {
  const base = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? "  repeated line" : `line ${i}`));

  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "a", "b")).toBe("");
  });

  it("round-trips through GNU patch for 40 random edit sets", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const before = `${base.join("\n")}\n`;
      const after = `${mutate(base, seed).join("\n")}\n`;
      const diff = unifiedDiff(before, after, "a/f.txt", "b/f.txt");
      expect(patched(before, diff), `seed ${seed}`).toBe(after);
    }
  });

  it("handles creating a file from nothing and emptying one", () => {
    expect(patched("", unifiedDiff("", "x\ny\n", "a/f", "b/f"))).toBe("x\ny\n");
    expect(patched("x\ny\n", unifiedDiff("x\ny\n", "", "a/f", "b/f"))).toBe("");
  });

  it("uses diff -u hunk headers", () => {
    expect(unifiedDiff("a\nb\nc\n", "a\nB\nc\n", "x", "y")).toBe(
      "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
    );
  });
});
