// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL expressions as hcl2json renders them (${…}), on purpose.
// Working out template strings as hcl2json renders them, as far as names need.
import { describe, expect, it } from "vitest";
import { formatDate, workOut } from "../../src/workflows/hcl-values.js";

const values = {
  variables: new Map<string, unknown>([
    ["os_ver_9", "9.6"],
    ["build_number", 0],
    ["self", "${var.self}"],
    ["list", ["a"]],
  ]),
  locals: new Map<string, unknown>([
    ["stamp", '${formatdate("YYYYMMDD-hhmmss", timestamp())}'],
    ["name", "AlmaLinux-${var.os_ver_9}"],
  ]),
};

describe("workOut", () => {
  it("fills in variables, locals (through other locals) and formatdate at the sample time", () => {
    expect(workOut("${local.name}-${local.stamp}.${var.build_number}.x86_64.qcow2", values)).toEqual({
      text: "AlmaLinux-9.6-20260102-030405.0.x86_64.qcow2",
      glob: "AlmaLinux-9.6-20260102-030405.0.x86_64.qcow2",
      open: [],
    });
    expect(workOut(42, values).text).toBe("42");
  });

  it("keeps what it cannot work out open: as written in the text, as * in the glob", () => {
    const r = workOut(
      "A-${upper(var.os_ver_9)}-${var.unknown}-${var.list}-${var.self}-${timestamp()}.raw",
      values,
    );
    expect(r.open).toEqual([
      "${upper(var.os_ver_9)}",
      "${var.unknown}",
      "${var.list}",
      "${var.self}",
      "${timestamp()}",
    ]);
    expect(r.glob).toBe("A-*-*-*-*-*.raw");
    expect(r.text).toBe("A-${upper(var.os_ver_9)}-${var.unknown}-${var.list}-${var.self}-${timestamp()}.raw");
  });
});

describe("formatDate", () => {
  it("formats the tokens names use, in UTC", () => {
    const t = new Date(Date.UTC(2031, 11, 9, 23, 5, 7));
    expect(formatDate("YYYYMMDD", t)).toBe("20311209");
    expect(formatDate("YY-MM-DD hh:mm:ss", t)).toBe("31-12-09 23:05:07");
  });
});
