/** A self-overwriting progress line on stderr, for long reads and uploads. */
import { formatBytes } from "./output.js";

export interface ProgressUpdate {
  /** What is being worked on (a file name). */
  readonly name: string;
  /** What is being done to it: hashing, uploading... `checking` restarts the rate clock. */
  readonly phase: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** Between two progress lines in a log (CI) rather than on a terminal. */
export const LOG_PROGRESS_INTERVAL_MS = 10_000;

/**
 * Progress of long reads and uploads on stderr: name, bytes, rate, ETA. On a terminal one line that
 * overwrites itself; in a log (CI) a plain line at most every 10 s, so a long step shows it is alive
 * without flooding the log.
 */
export class ProgressLine {
  private started = 0;
  private current = "";
  private lastDraw = 0;
  private shown = false;
  constructor(
    private readonly tty: boolean,
    private readonly logIntervalMs = LOG_PROGRESS_INTERVAL_MS,
  ) {}

  update(p: ProgressUpdate): void {
    const now = Date.now();
    if (p.name !== this.current || p.phase === "checking") {
      this.current = p.name;
      this.started = now;
      // In a log, the first line of a file comes one interval after it started, not at once.
      if (!this.tty && this.lastDraw < now - this.logIntervalMs) this.lastDraw = now;
    }
    if (!this.tty) {
      if (p.phase === "done" || now - this.lastDraw < this.logIntervalMs) return;
      this.lastDraw = now;
      process.stderr.write(`cloud-images: ${this.line(p, now)}\n`);
      return;
    }
    if (p.phase !== "done" && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[2K${this.line(p, now).slice(0, width - 1)}`);
    this.shown = true;
  }

  private line(p: ProgressUpdate, now: number): string {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = p.bytesDone / seconds;
    const eta = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : 0;
    const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
    // Figures first, so a narrow terminal cuts the file name rather than the ETA.
    return `${String(pct).padStart(3)}% ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${formatBytes(rate)}/s ETA ${clock(eta)} ${p.phase} ${p.name}`;
  }

  clear(): void {
    if (this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
  }
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
