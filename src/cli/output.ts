/**
 * Printing helpers shared by the commands: JSON for machines, aligned text for people. Text lines may
 * carry text from an image (names, os-release values, messages quoting them), so control characters
 * in them are escaped: an image cannot clear the screen, move the cursor or recolour the terminal.
 */
import { escapeTerminal } from "../text.js";

/** A line of text made safe for the terminal (backslashes kept: see escapeTerminal). */
export function safeLine(line: string): string {
  return escapeTerminal(line, { backslash: false });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.map(safeLine).join("\n")}\n`);
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], gap = "  "): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join(gap)
      .trimEnd(),
  );
}

/** Human-readable byte count: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function warn(message: string): void {
  process.stderr.write(`cloud-images: warning: ${safeLine(message)}\n`);
}
