// Console failure patterns (data) and milestones: every pattern fires on a real-looking line of its kind,
// none fires on a whole clean boot of the test guest, and lines split across chunks are whole lines.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CONSOLE_PATTERNS,
  ConsoleWatch,
  cleanConsoleLine,
  parseConsolePatterns,
} from "../../src/boot/console.js";

const CLEAN_BOOT = fileURLToPath(new URL("../data/boot/guest-clean.console.log", import.meta.url));

/** One line per pattern, as the kernel, systemd, dracut or initramfs-tools print them. */
const SAMPLES: Record<string, string> = {
  "kernel-panic": "[    3.141592] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100",
  "kernel-oops": "[   12.000000] Oops: 0002 [#1] PREEMPT SMP NOPTI",
  "kernel-warning":
    "[   10.411000] WARNING: CPU: 1 PID: 231 at drivers/gpu/drm/drm_atomic.c:1502 drm_atomic_check_only+0x5f/0x900",
  segfault:
    "[   45.000000] python3[812]: segfault at 8 ip 00007f1c2e5d3a10 sp 00007ffd4a1b2c30 error 4 in libc.so.6",
  "emergency-mode": 'You are in emergency mode. After logging in, type "journalctl -xb" to view',
  "rescue-mode": 'You are in rescue mode. After logging in, type "journalctl -xb" to view',
  "dracut-fatal": "[  181.000000] dracut: Refusing to continue",
  "ordering-cycle": "[    5.000000] systemd[1]: basic.target: Found ordering cycle on sockets.target/start",
  "oom-kill":
    "[   90.000000] cloud-init invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0",
  "generator-failed":
    "[   52.430456] (sd-execut[180]: /usr/lib/systemd/system-generators/cloud-init-generator failed with exit status 2.",
  "unit-failed":
    "\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mcloud-images-broken.service\x1b[0m - A unit that fails.",
  "unit-dependency-failed":
    "[\x1b[0;1;38;5;185mDEPEND\x1b[0m] Dependency failed for \x1b[0;1;39mboot-efi.mount\x1b[0m - /boot/efi.",
};

describe("console patterns", () => {
  it("every pattern has an id, a check, a reason and a source, and a sample line it matches", () => {
    expect(CONSOLE_PATTERNS.map((p) => p.id).sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const p of CONSOLE_PATTERNS) {
      expect(p.reason.length, p.id).toBeGreaterThan(10);
      expect(p.source.length, p.id).toBeGreaterThan(5);
      const w = new ConsoleWatch();
      const events = w.feed(`${SAMPLES[p.id]}\r\n`);
      expect(
        events.matches.map((m) => m.pattern.id),
        p.id,
      ).toContain(p.id);
    }
  });

  it("names the failed unit", () => {
    const w = new ConsoleWatch();
    // systemd prints "[FAILED]" with the brackets outside its colour codes
    const m = w.feed(`[${SAMPLES["unit-failed"]}\n`).matches[0]!;
    expect(m.unit).toBe("cloud-images-broken.service");
    expect(m.line).toBe("[FAILED] Failed to start cloud-images-broken.service - A unit that fails.");
  });

  it("finds nothing in a whole clean boot of the test guest, and every milestone", () => {
    const w = new ConsoleWatch();
    const text = readFileSync(CLEAN_BOOT);
    const milestones: string[] = [];
    // fed in odd-sized chunks, as QEMU's file grows
    for (let at = 0; at < text.length; at += 777)
      milestones.push(...w.feed(text.subarray(at, at + 777)).milestones);
    w.end();
    expect(w.matches).toEqual([]);
    expect(milestones).toEqual(["kernel", "init", "cloud-init", "login-prompt", "cloud-init-done"]);
    expect(w.lineCount).toBeGreaterThan(500);
  });

  it("sees the login prompt before its line ends, and keeps the last 50 lines", () => {
    const w = new ConsoleWatch();
    for (let i = 0; i < 80; i++) w.feed(`line ${i}\n`);
    expect(w.feed("\r\ncloud-images-boot-test login: ").milestones).toEqual(["login-prompt"]);
    const tail = w.lastLines();
    expect(tail).toHaveLength(50);
    expect(tail.at(-1)).toBe("cloud-images-boot-test login: ");
  });

  it("strips colours and carriage returns", () => {
    expect(cleanConsoleLine("[\x1b[0;32m  OK  \x1b[0m] Started\r")).toBe("[  OK  ] Started");
  });

  it("refuses a pattern file without reasons or with an unknown check", () => {
    const base = { id: "x", check: "console", regex: "x", fatal: false, reason: "why", source: "where" };
    expect(() => parseConsolePatterns({ patterns: [{ ...base, reason: "" }] })).toThrow();
    expect(() => parseConsolePatterns({ patterns: [{ ...base, check: "cloud-init" }] })).toThrow();
    expect(parseConsolePatterns({ patterns: [base] })[0]!.regex.test("axb")).toBe(true);
  });
});
