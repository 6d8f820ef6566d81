/**
 * A verdict as JUnit XML (the format CI systems show test results in): one testsuite per image, one
 * testcase per check; `fail` is a failure, `skip` skipped, `warn` passes with the warning as output.
 */
import type { Verdict } from "../inspect/verdict.js";

/** XML 1.0 text: the five entities escaped, characters XML cannot carry dropped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

export function junitXml(verdict: Verdict, options: { suite?: string; timestamp?: Date } = {}): string {
  const suite = options.suite ?? verdict.image;
  const count = (s: string) => verdict.checks.filter((c) => c.status === s).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cloud-images verify" tests="${verdict.checks.length}" failures="${count("fail")}" skipped="${count("skip")}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${verdict.checks.length}" failures="${count("fail")}" errors="0" skipped="${count("skip")}"${options.timestamp ? ` timestamp="${options.timestamp.toISOString().slice(0, 19)}"` : ""}>`,
  ];
  for (const c of verdict.checks) {
    const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(c.name)}"`;
    const detail = [
      c.expected !== undefined ? `expected: ${c.expected}` : "",
      c.found !== undefined ? `found: ${c.found}` : "",
    ]
      .filter(Boolean)
      .join("\n");
    if (c.status === "pass") lines.push(`${open}/>`);
    else if (c.status === "fail") {
      lines.push(
        `${open}>`,
        `      <failure message="${xmlEscape(c.message)}" type="fail">${xmlEscape(detail)}</failure>`,
        "    </testcase>",
      );
    } else if (c.status === "skip") {
      lines.push(`${open}>`, `      <skipped message="${xmlEscape(c.message)}"/>`, "    </testcase>");
    } else {
      lines.push(
        `${open}>`,
        `      <system-out>${xmlEscape(`WARN: ${c.message}${detail ? `\n${detail}` : ""}`)}</system-out>`,
        "    </testcase>",
      );
    }
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
