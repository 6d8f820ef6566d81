// The policy engine's pure parts: severity and waivers (expiry), layering (overrides, removals, when),
// the built-in data files against the file format, JUnit.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../../src/inspect/verdict.js";
import { BUILTIN_POLICIES, builtinDocument, policyFor } from "../../src/policy/builtin.js";
import { CHECKS } from "../../src/policy/checks/index.js";
import { applicableRule, render, whenMatches } from "../../src/policy/engine.js";
import { junitXml } from "../../src/policy/junit.js";
import { requiredPackages } from "../../src/policy/leg.js";
import { mergePolicies } from "../../src/policy/merge.js";
import { loadPolicyFile, loadWaiversFile } from "../../src/policy/policy-file.js";
import { CHECK_SCHEMAS, policyFileSchema } from "../../src/policy/schema.js";
import { CHECK_NAMES, type Evaluation, type PolicyLeg, type Waiver } from "../../src/policy/types.js";
import { applyWaivers, isExpired } from "../../src/policy/waivers.js";

const failing: Evaluation = {
  status: "fail",
  message: "unused",
  findings: [
    { subject: "/var/log/messages", message: "/var/log/messages is not empty (10 bytes)" },
    { subject: "/tmp/x", message: "/tmp/x exists (file)" },
  ],
};

const waiver = (w: Partial<Waiver>): Waiver => ({
  check: "leftovers",
  reason: "known",
  expires: "2026-06-30",
  origin: "w.yaml:2",
  ...w,
});

describe("waivers", () => {
  it("apply through their last day, not after", () => {
    expect(isExpired(waiver({}), "2026-06-30")).toBe(false);
    expect(isExpired(waiver({}), "2026-07-01")).toBe(true);
  });

  it("a waiver for one path leaves the other findings failing, and says how many were waived", () => {
    const r = render("leftovers", failing, {}, [waiver({ path: "/var/log/*" })], "2026-01-01");
    expect(r.status).toBe("fail");
    expect(r.found).toBe("/tmp/x");
    expect(r.message).toBe("/tmp/x exists (file) (1 more waived)");
  });

  it("waiving every finding turns the failure into a warning naming the waiver", () => {
    const r = render("leftovers", failing, {}, [waiver({})], "2026-01-01");
    expect(r.status).toBe("warn");
    expect(r.message).toMatch(/^waived: .* — known \(w\.yaml:2, until 2026-06-30\)$/);
  });

  it("an expired waiver no longer applies and the message says so", () => {
    const r = render("leftovers", failing, {}, [waiver({ expires: "2025-12-31" })], "2026-01-01");
    expect(r.status).toBe("fail");
    expect(r.message).toContain("[waiver w.yaml:2 expired on 2025-12-31, no longer applies]");
  });

  it("a package waiver covers only that package; other checks' waivers do nothing", () => {
    const ev: Evaluation = {
      status: "fail",
      message: "",
      findings: [
        { subject: "tar", message: "tar is not installed" },
        { subject: "sudo", message: "sudo is not installed" },
      ],
    };
    const w = applyWaivers(
      "required-packages",
      ev.findings,
      [waiver({ check: "required-packages", package: "tar" }), waiver({})],
      "2026-01-01",
    );
    expect(w.remaining.map((f) => f.subject)).toEqual(["sudo"]);
    const r = render(
      "required-packages",
      ev,
      {},
      [waiver({ check: "required-packages", package: "tar" })],
      "2026-01-01",
    );
    expect(r.found).toBe("sudo");
  });

  it("a failure without findings is waived only by a waiver naming no path or package", () => {
    const ev: Evaluation = {
      status: "fail",
      expected: "ext4",
      found: "xfs",
      message: "the root filesystem is xfs",
    };
    expect(
      render("root-filesystem", ev, {}, [waiver({ check: "root-filesystem", path: "/" })], "2026-01-01")
        .status,
    ).toBe("fail");
    expect(
      render("root-filesystem", ev, {}, [waiver({ check: "root-filesystem" })], "2026-01-01").status,
    ).toBe("warn");
  });

  it("severity warn reports a failure as a warning; passes stay passes", () => {
    expect(render("leftovers", failing, { severity: "warn" }, [], "2026-01-01").status).toBe("warn");
    expect(render("leftovers", { status: "pass", message: "ok" }, {}, [waiver({})], "2026-01-01")).toEqual({
      name: "leftovers",
      status: "pass",
      message: "ok",
    });
  });
});

const leg = (l: Partial<PolicyLeg>): PolicyLeg => ({ arch: "x86_64", kernel: "standard", ...l });

describe("layering and when", () => {
  it("when matches every listed field", () => {
    expect(whenMatches({ major: ["8"] }, leg({ major: "8" }))).toBe(true);
    expect(whenMatches({ major: ["8"], arch: ["aarch64"] }, leg({ major: "8" }))).toBe(false);
    expect(whenMatches({ version: ["10-kitten"] }, leg({}))).toBe(false);
    expect(whenMatches(undefined, leg({}))).toBe(true);
  });

  it("a later layer replaces items by key, removes with remove: true, appends new ones, overrides scalars", () => {
    const checks = mergePolicies([
      builtinDocument("common"),
      {
        policy: 1,
        checks: {
          "required-packages": {
            severity: "warn",
            packages: [
              { name: "tar", remove: true },
              { name: "sudo", reason: "mine" },
              { name: "vim-minimal", reason: "site" },
            ],
          },
        },
      },
    ]);
    const rule = checks["required-packages"]!;
    const names = (rule.packages as { name: string; reason?: string }[]).map((p) => p.name);
    expect(rule.severity).toBe("warn");
    expect(names).not.toContain("tar");
    expect(names).toContain("vim-minimal");
    expect(
      (rule.packages as { name: string; reason?: string }[]).find((p) => p.name === "sudo")?.reason,
    ).toBe("mine");
  });

  it("drops list items whose when does not match the leg", () => {
    const check = CHECKS.find((c) => c.name === "kernel-cmdline")!;
    const azure = policyFor("azure").checks["kernel-cmdline"]!;
    const args = (l: PolicyLeg) =>
      (applicableRule(check, azure, l).arguments as { arg: string }[]).map((a) => a.arg);
    expect(args(leg({ arch: "x86_64" }))).toContain("earlyprintk=ttyS0");
    expect(args(leg({ arch: "aarch64" }))).not.toContain("earlyprintk=ttyS0");
    expect(args(leg({ arch: "aarch64" }))).toContain("console=ttyAMA0");
  });

  it("gencloud_ext4 is gencloud with an ext4 root", () => {
    const ext4 = policyFor("gencloud_ext4").checks;
    const xfs = policyFor("gencloud").checks;
    expect(ext4["root-filesystem"]!.filesystem).toBe("ext4");
    expect(ext4["required-packages"]).toEqual(xfs["required-packages"]);
  });
});

describe("the built-in policies", () => {
  for (const name of BUILTIN_POLICIES) {
    it(`${name}.json follows the policy file format, every rule with a one-line reason and a source`, () => {
      const doc = builtinDocument(name);
      expect(policyFileSchema.safeParse(doc).success).toBe(true);
      for (const [check, rule] of Object.entries(doc.checks)) {
        expect(CHECK_NAMES).toContain(check);
        const r = CHECK_SCHEMAS[check as keyof typeof CHECK_SCHEMAS].safeParse(rule);
        expect(r.error?.issues ?? []).toEqual([]);
      }
    });
  }

  it("every check has a rule with a reason and a source, and every list item has both", () => {
    for (const type of ["azure", "gencloud", "gencloud_ext4", "oci", "opennebula"] as const) {
      const checks = policyFor(type).checks;
      expect(Object.keys(checks).sort()).toEqual([...CHECK_NAMES].sort());
      for (const c of CHECKS) {
        const rule = checks[c.name]!;
        for (const param of Object.keys(c.lists ?? {})) {
          for (const item of (rule[param] ?? []) as { reason?: string; source?: string }[]) {
            expect(item.reason, `${type} ${c.name}`).toMatch(/\S/);
            expect(item.source, `${type} ${c.name}`).toMatch(/\S/);
          }
        }
      }
    }
  });

  it("requiredPackages(leg) gives each leg's set: 64k legs, Kitten and version-only rules", () => {
    const names = (type: string, variant: string, arch: string) =>
      requiredPackages({ type, variant, arch }).map((p) => p.name);
    expect(names("gencloud", "9", "x86_64")).toEqual(
      expect.arrayContaining(["qemu-guest-agent", "cloud-init", "tar", "grub2-pc"]),
    );
    expect(names("gencloud", "9", "aarch64")).not.toContain("grub2-pc");
    expect(names("azure", "9", "x86_64")).toEqual(expect.arrayContaining(["WALinuxAgent", "gdisk"]));
    expect(names("azure", "10", "x86_64")).not.toContain("gdisk");
    expect(names("opennebula", "10-kitten", "x86_64")).toContain(
      "almalinux-kitten-release-opennebula-addons",
    );
    expect(names("opennebula", "10-kitten", "x86_64")).not.toContain("cloud-init");
    const kernel = requiredPackages({ type: "azure", variant: "9-64k", arch: "aarch64" }).find(
      (p) => p.name === "a kernel",
    );
    expect(kernel?.anyOf).toEqual(["kernel-core", "kernel-64k-core"]);
  });
});

describe("the README's examples", () => {
  it("its policy file and waivers file load as they are written", async () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = (heading: string) => {
      const after = readme.slice(readme.indexOf(heading));
      return /```yaml\n([\s\S]*?)```/.exec(after)![1]!;
    };
    const dir = mkdtempSync(join(tmpdir(), "policy-readme-"));
    try {
      writeFileSync(join(dir, "site.yaml"), block("#### Policy files"));
      writeFileSync(join(dir, "waivers.yaml"), block("#### Waivers"));
      const doc = await loadPolicyFile(join(dir, "site.yaml"));
      expect(Object.keys(doc.checks)).toEqual(["required-packages", "kernel-cmdline", "leftovers"]);
      const waivers = await loadWaiversFile(join(dir, "waivers.yaml"));
      expect(waivers.map((w) => [w.check, w.path ?? w.package, w.expires])).toEqual([
        ["leftovers", "/var/log/cloud-init.log", "2027-06-30"],
        ["required-packages", "gdisk", "2027-03-31"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("examples/policy's site policy and waivers (used by a README example) load", async () => {
    const at = (f: string) => fileURLToPath(new URL(`../../examples/policy/${f}`, import.meta.url));
    const doc = await loadPolicyFile(at("site.yaml"));
    expect(Object.keys(doc.checks)).toEqual(["required-packages", "kernel-cmdline", "leftovers"]);
    const waivers = await loadWaiversFile(at("waivers.yaml"));
    expect(waivers.map((w) => w.check)).toEqual(["leftovers", "required-packages"]);
  });
});

describe("JUnit", () => {
  it("one testcase per check: failure, skipped, warning as output, escaped", () => {
    const verdict: Verdict = {
      passed: false,
      image: "a<b>.qcow2",
      checks: [
        {
          name: "sshd",
          status: "fail",
          expected: "not yes",
          found: "yes",
          message: 'PermitRootLogin is "yes" & more',
        },
        { name: "rpmdb", status: "pass", message: "ok" },
        { name: "build-stamp", status: "skip", message: "no stamp" },
        { name: "leftovers", status: "warn", message: "waived\u0001" },
      ],
    };
    const xml = junitXml(verdict);
    expect(xml).toContain(
      '<testsuite name="a&lt;b&gt;.qcow2" tests="4" failures="1" errors="0" skipped="1">',
    );
    expect(xml).toContain(
      '<failure message="PermitRootLogin is &quot;yes&quot; &amp; more" type="fail">expected: not yes\nfound: yes</failure>',
    );
    expect(xml).toContain('<testcase classname="a&lt;b&gt;.qcow2" name="rpmdb"/>');
    expect(xml).toContain('<skipped message="no stamp"/>');
    expect(xml).toContain("<system-out>WARN: waived</system-out>");
  });
});
