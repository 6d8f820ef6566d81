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

/** One self-overwriting stderr line on a TTY: name, bytes, rate, ETA. Silent otherwise. */
export class ProgressLine {
  private started = 0;
  private current = "";
  private lastDraw = 0;
  private shown = false;
  constructor(private readonly tty: boolean) {}

  update(p: ProgressUpdate): void {
    if (!this.tty) return;
    if (p.name !== this.current || p.phase === "checking") {
      this.current = p.name;
      this.started = Date.now();
    }
    const now = Date.now();
    if (p.phase !== "done" && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = p.bytesDone / seconds;
    const eta = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : 0;
    const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
    // Figures first, so a narrow terminal cuts the file name rather than the ETA.
    const line = `${String(pct).padStart(3)}% ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${formatBytes(rate)}/s ETA ${clock(eta)} ${p.phase} ${p.name}`;
    const width = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
    this.shown = true;
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
