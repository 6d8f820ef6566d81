// Every check of the acceptance policy passes on clean realistic images of all five types, AlmaLinux 8,
// 9, 10 and Kitten; verify's CLI runs the policy with --json, --junit, --policy and --waivers.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { CHECKS } from "../../src/policy/checks/index.js";
import { runCli } from "../helpers/cli.js";
import { runCommand } from "../helpers/process.js";
import { COVER, type CoverName, coverImage, imagePath, verifyLeg } from "./images.js";

const names = Object.keys(COVER) as CoverName[];
const built = new Map<CoverName, BuiltImage>();
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "policy-clean-"));
  // one at a time: parallel builds only fight over the two cores
  for (const n of names) built.set(n, await coverImage(n));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("clean images pass their type's policy", () => {
  for (const name of names) {
    const { leg } = COVER[name];
    it(`${leg.type} ${leg.variant} ${leg.arch}: every check passes, file-integrity (--deep) included`, async () => {
      const verdict = await verifyLeg(imagePath(built.get(name)!), leg, { deep: true });
      const notPassed = verdict.checks.filter((c) => c.status !== "pass");
      expect(notPassed).toEqual([]);
      const ran = verdict.checks.map((c) => c.name);
      for (const c of CHECKS) expect(ran).toContain(c.name);
    });
  }
});

describe("verify's policy options", () => {
  const leg = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];

  it("--json keeps the verdict's shape and --junit writes one testcase per check", async () => {
    const junit = join(tmp, "verify.xml");
    const r = await runCli([
      "verify",
      imagePath(built.get("gencloud9")!),
      ...leg,
      ...["--packages-out", join(tmp, "p.txt"), "--junit", junit, "--json"],
    ]);
    expect(r.code).toBe(0);
    const verdict = JSON.parse(r.stdout) as { checks: Record<string, unknown>[] };
    for (const c of verdict.checks) {
      expect(
        Object.keys(c).every((k) => ["name", "status", "expected", "found", "message"].includes(k)),
      ).toBe(true);
    }
    const xml = readFileSync(junit, "utf8");
    // Python's XML parser as the oracle of well-formedness and of the testcase count
    const count = await runCommand("python3", [
      "-c",
      "import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); print(len(d.getElementsByTagName('testcase')), len(d.getElementsByTagName('failure')))",
      junit,
    ]);
    expect(count.stdout.trim()).toBe(`${verdict.checks.length} 0`);
    expect(xml).toContain('name="sshd"');
  });

  it("a --policy file adds rules (an extra required package fails, named in found) and --waivers accepts it until it expires", async () => {
    const policy = join(tmp, "site.yaml");
    writeFileSync(
      policy,
      "policy: 1\nchecks:\n  required-packages:\n    packages:\n      - name: vim-enhanced\n        reason: the site's editor\n",
    );
    const run = (...extra: string[]) =>
      runCli([
        "verify",
        imagePath(built.get("gencloud9")!),
        ...leg,
        "--packages-out",
        join(tmp, "q.txt"),
        "--policy",
        policy,
        "--json",
        ...extra,
      ]);
    const failed = await run();
    expect(failed.code).toBe(1);
    const check = (out: string) =>
      (JSON.parse(out).checks as { name: string }[]).find((c) => c.name === "required-packages");
    expect(check(failed.stdout)).toMatchObject({ status: "fail", found: "vim-enhanced" });
    const waivers = join(tmp, "waivers.yaml");
    writeFileSync(
      waivers,
      "waivers:\n  - check: required-packages\n    package: vim-enhanced\n    reason: rolled out next month\n    expires: 2999-01-01\n",
    );
    const waived = await run("--waivers", waivers);
    expect(waived.code).toBe(0);
    expect(check(waived.stdout)).toMatchObject({
      status: "warn",
      message: expect.stringMatching(/^waived: .*rolled out next month/),
    });
    writeFileSync(
      waivers,
      "waivers:\n  - check: required-packages\n    package: vim-enhanced\n    reason: rolled out last year\n    expires: 2000-01-01\n",
    );
    const expired = await run("--waivers", waivers);
    expect(expired.code).toBe(1);
    expect(check(expired.stdout)).toMatchObject({
      status: "fail",
      message: expect.stringContaining("expired on 2000-01-01, no longer applies"),
    });
  });

  it.each([
    [
      "policy: 1\nchecks:\n  no-such-check: {}\n",
      "--policy",
      /bad\.yaml:3: unknown check "no-such-check" \(valid: root-filesystem, .*file-integrity\)$/,
    ],
    [
      "policy: 1\nchecks:\n  sshd:\n    settings:\n      - keyword: PermitRootLogin\n        forbiden: [yes]\n",
      "--policy",
      /bad\.yaml:6: unknown field "forbiden" in check sshd \(valid: reason, source, when, remove, keyword, forbidden, default\)$/,
    ],
    ["policy: 1\nchecks: [\n", "--policy", /bad\.yaml:\d+: not valid YAML or JSON/],
    [
      "waivers:\n  - check: sshd\n    reason: later\n    expires: 2026-02-30\n",
      "--waivers",
      /bad\.yaml:4: waiver: expires must be a real date \(YYYY-MM-DD\)$/,
    ],
    [
      "waivers:\n  - check: ssh\n    reason: x\n    expires: 2026-01-01\n",
      "--waivers",
      /bad\.yaml:2: waiver: check .*"sshd"/,
    ],
  ])(
    "a bad file gets one line naming file and line, exit 2, nothing written (%#)",
    async (text, flag, message) => {
      const bad = join(tmp, "bad.yaml");
      writeFileSync(bad, text);
      const out = join(tmp, "never.txt");
      const junit = join(tmp, "never.xml");
      const r = await runCli([
        "verify",
        imagePath(built.get("gencloud9")!),
        ...leg,
        "--packages-out",
        out,
        "--junit",
        junit,
        flag,
        bad,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(junit)).toBe(false);
    },
  );
});
