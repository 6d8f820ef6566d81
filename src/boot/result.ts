/** What a boot test returns and writes (IMAGE.boot.json), and its JUnit report. */
import type { CheckResult } from "../inspect/verdict.js";
import type { BootRun } from "./checks.js";
import type { Accelerator } from "./machine.js";

export interface BootPhases {
  /** QEMU start → the kernel's first console line. */
  readonly firmware?: number;
  /** The kernel's first line → PID 1 started. */
  readonly kernel?: number;
  /** PID 1 started → the first SSH login (or the login prompt, for console-only boots). */
  readonly ssh?: number;
  /** The first SSH login → cloud-init finished. */
  readonly cloudInit?: number;
}

export interface BootRecord extends Omit<BootRun, "stageOne" | "stageTwo"> {
  readonly consoleLog: string;
  readonly phases: BootPhases;
  /** Seconds since QEMU started when cloud-init was seen to finish (console, phone-home or status). */
  readonly cloudInitDoneSeconds?: number;
}

export interface BootTestResult {
  readonly passed: boolean;
  readonly image: string;
  readonly leg: {
    readonly type: string;
    readonly variant: string;
    readonly arch: string;
    readonly release: string;
  };
  readonly accelerator: Accelerator;
  readonly acceleratorWarning?: string;
  readonly firmware: "uefi" | "bios";
  readonly diskSizeBytes: number;
  readonly timeoutSeconds: number;
  /** Every check, in the order of BOOT_CHECK_NAMES, with verify's statuses and shape. */
  readonly checks: CheckResult[];
  readonly boots: readonly BootRecord[];
  /** Set when the test ended before every check could run because the outcome was already certain. */
  readonly stoppedEarly?: string;
  readonly seconds: number;
  /** The last console lines of the boot that failed (up to 50). */
  readonly consoleTail?: readonly string[];
}

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

/** JUnit XML: one testsuite, one testcase per check (skipped, failure, or passed; warnings pass). */
export function bootJunit(result: BootTestResult, suiteName = "boot-test"): string {
  const failures = result.checks.filter((c) => c.status === "fail").length;
  const skipped = result.checks.filter((c) => c.status === "skip").length;
  const className = `${suiteName}.${result.leg.type}.${result.leg.variant}.${result.leg.arch}`;
  const cases = result.checks.map((c) => {
    const head = `    <testcase classname="${xmlEscape(className)}" name="${xmlEscape(c.name)}" time="0">`;
    const detail = `expected: ${c.expected ?? "-"}; found: ${c.found ?? "-"}`;
    if (c.status === "fail")
      return `${head}\n      <failure message="${xmlEscape(c.message)}">${xmlEscape(detail)}</failure>\n    </testcase>`;
    if (c.status === "skip")
      return `${head}\n      <skipped message="${xmlEscape(c.message)}"/>\n    </testcase>`;
    return `${head}\n      <system-out>${xmlEscape(`${c.status}: ${c.message}`)}</system-out>\n    </testcase>`;
  });
  const tail = result.consoleTail?.length
    ? [`    <system-out>${xmlEscape(result.consoleTail.join("\n"))}</system-out>`]
    : [];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cloud-images" tests="${result.checks.length}" failures="${failures}" skipped="${skipped}" time="${result.seconds.toFixed(1)}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${result.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${result.seconds.toFixed(1)}">`,
    ...cases,
    ...tail,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
