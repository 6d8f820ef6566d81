/**
 * Progress without a terminal: long reads and uploads show a plain line at most every 10 s in a log
 * (none for work shorter than that), and on a terminal the self-overwriting line as before.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressLine } from "../../src/cli/progress.js";
import { buildHeartbeat } from "../../src/pipeline/steps/build.js";

let written: string[];
beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-02-20T14:30:00Z") });
  written = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Feeds `seconds` of progress, one update per 200 ms, `bytesPerSecond` at a time. */
function feed(progress: ProgressLine, name: string, seconds: number, total: number) {
  const step = total / (seconds * 5);
  for (let i = 1; i <= seconds * 5; i++) {
    vi.advanceTimersByTime(200);
    progress.update({ name, phase: "uploading", bytesDone: Math.round(step * i), bytesTotal: total });
  }
}

describe("ProgressLine in a log", () => {
  it("writes one plain line per 10 s of work, with figures, never more often", () => {
    const progress = new ProgressLine(false);
    progress.update({ name: "image.qcow2", phase: "checking", bytesDone: 0, bytesTotal: 3000 * 1024 * 1024 });
    feed(progress, "image.qcow2", 35, 3000 * 1024 * 1024);
    expect(written).toHaveLength(3);
    for (const line of written) {
      expect(line).toMatch(
        /^cloud-images: +\d+% [\d.]+ (MiB|GiB)\/2\.9 GiB [\d.]+ MiB\/s ETA \d+:\d\d uploading image\.qcow2\n$/,
      );
      expect(line).not.toContain("\r");
    }
    expect(written[0]).toMatch(/^cloud-images: {2}28% /);
  });

  it("writes nothing for work shorter than 10 s, and nothing for done", () => {
    const progress = new ProgressLine(false);
    feed(progress, "small.txt", 9, 1024);
    progress.update({ name: "small.txt", phase: "done", bytesDone: 1024, bytesTotal: 1024 });
    expect(written).toEqual([]);
  });

  it("keeps the 10 s spacing across files", () => {
    const progress = new ProgressLine(false);
    feed(progress, "a", 12, 100);
    feed(progress, "b", 5, 100); // within 10 s of the line for a
    expect(written).toHaveLength(1);
  });
});

it("on a terminal, one line that overwrites itself", () => {
  const progress = new ProgressLine(true);
  feed(progress, "image.qcow2", 1, 1000);
  expect(written.length).toBeGreaterThan(1);
  expect(written.every((w) => w.startsWith("\r\x1b[2K"))).toBe(true);
  progress.clear();
  expect(written.at(-1)).toBe("\r\x1b[2K");
});

it("a silent Packer build says once a minute that it is still running; output resets the minute", () => {
  const said: string[] = [];
  const heartbeat = buildHeartbeat((line) => said.push(line));
  vi.advanceTimersByTime(50_000);
  heartbeat.output();
  vi.advanceTimersByTime(50_000); // 100 s in, 50 s since the last output
  expect(said).toEqual([]);
  vi.advanceTimersByTime(20_000);
  expect(said).toEqual(["still building after 1m50s (no output for 1m00s)"]);
  vi.advanceTimersByTime(60_000);
  expect(said).toHaveLength(2);
  heartbeat.stop();
  vi.advanceTimersByTime(600_000);
  expect(said).toHaveLength(2);
});
