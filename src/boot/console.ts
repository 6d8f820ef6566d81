/**
 * Watching the serial console: bytes in, whole lines out, each matched against the failure patterns
 * (console-patterns.json) and the boot's milestones. Pure; the caller feeds it what QEMU prints.
 */
import { z } from "zod";
import patternFile from "./console-patterns.json" with { type: "json" };

export interface ConsolePattern {
  readonly id: string;
  /** The check a match fails. */
  readonly check: "console" | "units";
  readonly regex: RegExp;
  /** Nothing more will happen on this boot: end the test at once. */
  readonly fatal: boolean;
  readonly reason: string;
  readonly source: string;
}

const patternFileSchema = z.object({
  patterns: z.array(
    z.object({
      id: z.string().regex(/^[a-z][a-z0-9-]*$/),
      check: z.enum(["console", "units"]),
      regex: z.string().min(1),
      fatal: z.boolean(),
      reason: z.string().min(1),
      source: z.string().min(1),
    }),
  ),
});

/** Parses a pattern file's JSON (the built-in one, or a maintainer's). */
export function parseConsolePatterns(data: unknown): ConsolePattern[] {
  return patternFileSchema.parse(data).patterns.map((p) => ({ ...p, regex: new RegExp(p.regex) }));
}

export const CONSOLE_PATTERNS: readonly ConsolePattern[] = parseConsolePatterns(patternFile);

/** Points of a boot the console shows, in the order they normally come. */
export type Milestone = "kernel" | "init" | "cloud-init" | "cloud-init-done" | "login-prompt";

const MILESTONES: ReadonlyArray<readonly [Milestone, RegExp]> = [
  // the first line the kernel prints (when its console is the serial port)
  ["kernel", /\bLinux version \d/],
  // the kernel starts PID 1 (from the initramfs or the root filesystem), or systemd greets
  ["init", /\bRun \S+ as init process|\bsystemd\[1\]: |\bsystemd \d+ running in system mode/],
  ["cloud-init", /Cloud-init v\. \S+ running '/],
  ["cloud-init-done", /Cloud-init v\. \S+ finished at /],
  // getty's "HOSTNAME login: " ends without a newline (kernel messages may follow on the same line), so
  // the unfinished last line is matched too
  ["login-prompt", /(^|\s)\S+ login: ?/],
];

export interface PatternMatch {
  readonly pattern: ConsolePattern;
  /** The line, cleaned. */
  readonly line: string;
  /** The unit named by a units pattern's first capture group, when it has one. */
  readonly unit?: string;
}

export interface ConsoleEvents {
  readonly matches: PatternMatch[];
  readonly milestones: Milestone[];
}

/** ANSI escape sequences (systemd's colours) and carriage returns. */
export function cleanConsoleLine(line: string): string {
  return line
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[@-Z\\-_]/g, "")
    .replace(/\r/g, "");
}

export class ConsoleWatch {
  private partial = "";
  private readonly tail: string[] = [];
  private readonly seen = new Set<Milestone>();
  readonly matches: PatternMatch[] = [];
  /** Whole lines seen so far. */
  lineCount = 0;

  constructor(
    private readonly patterns: readonly ConsolePattern[] = CONSOLE_PATTERNS,
    private readonly tailLines = 50,
  ) {}

  /** Feeds bytes; returns what the lines completed by them (and the unfinished last one) showed. */
  feed(chunk: Buffer | string): ConsoleEvents {
    const text = this.partial + (typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    const lines = text.split("\n");
    this.partial = lines.pop()!;
    const events: ConsoleEvents = { matches: [], milestones: [] };
    for (const raw of lines) this.line(cleanConsoleLine(raw), events);
    const pending = cleanConsoleLine(this.partial);
    if (pending !== "") this.milestones(pending, events);
    return events;
  }

  /** Ends the input: the unfinished last line counts as a line. */
  end(): ConsoleEvents {
    const events: ConsoleEvents = { matches: [], milestones: [] };
    if (this.partial !== "") this.line(cleanConsoleLine(this.partial), events);
    this.partial = "";
    return events;
  }

  /** The last lines seen (cleaned), for a failure report. */
  lastLines(): string[] {
    const pending = cleanConsoleLine(this.partial);
    return pending === "" ? [...this.tail] : [...this.tail, pending].slice(-this.tailLines);
  }

  reached(milestone: Milestone): boolean {
    return this.seen.has(milestone);
  }

  private line(line: string, events: ConsoleEvents): void {
    this.lineCount++;
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    for (const pattern of this.patterns) {
      const m = pattern.regex.exec(line);
      if (!m) continue;
      const unit = m.slice(1).find((g) => g !== undefined && /\.\w+$/.test(g));
      const match: PatternMatch = { pattern, line: line.trim(), ...(unit ? { unit } : {}) };
      this.matches.push(match);
      events.matches.push(match);
    }
    this.milestones(line, events);
  }

  private milestones(line: string, events: ConsoleEvents): void {
    for (const [name, regex] of MILESTONES) {
      if (this.seen.has(name) || !regex.test(line)) continue;
      this.seen.add(name);
      events.milestones.push(name);
    }
  }
}
