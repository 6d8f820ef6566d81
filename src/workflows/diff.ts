/** A compact unified diff (LCS over lines, 3 lines of context), enough for generated-file drift. */

type Op = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Edit script from a to b via the longest common subsequence (files here are a few hundred lines). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i++]! });
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      ops.push({ kind: "-", line: a[i++]! });
    } else {
      ops.push({ kind: "+", line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: "-", line: a[i++]! });
  while (j < m) ops.push({ kind: "+", line: b[j++]! });
  return ops;
}

function range(start: number, count: number): string {
  // Unified-diff convention: an empty range names the line before it.
  const first = count === 0 ? start : start + 1;
  return count === 1 ? `${first}` : `${first},${count}`;
}

/** `diff -u` style text turning `before` into `after`; empty string when they are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  beforeName: string,
  afterName: string,
  context = 3,
) {
  if (before === after) return "";
  const ops = editScript(splitLines(before), splitLines(after));
  const changed = ops.flatMap((op, k) => (op.kind === " " ? [] : [k]));
  if (changed.length === 0) {
    // Only the final newline differs.
    return `--- ${beforeName}\n+++ ${afterName}\n@@ trailing newline differs @@\n`;
  }
  // Group changes whose context windows touch into hunks.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const last = hunks[hunks.length - 1];
    if (last && k - last[1] <= 2 * context) last[1] = k;
    else hunks.push([k, k]);
  }
  let out = `--- ${beforeName}\n+++ ${afterName}\n`;
  for (const [firstChange, lastChange] of hunks) {
    const start = Math.max(0, firstChange - context);
    const end = Math.min(ops.length, lastChange + context + 1);
    let aStart = 0;
    let bStart = 0;
    for (const op of ops.slice(0, start)) {
      if (op.kind !== "+") aStart++;
      if (op.kind !== "-") bStart++;
    }
    const body = ops.slice(start, end);
    const aCount = body.filter((op) => op.kind !== "+").length;
    const bCount = body.filter((op) => op.kind !== "-").length;
    out += `@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@\n`;
    for (const op of body) out += `${op.kind}${op.line}\n`;
  }
  return out;
}
