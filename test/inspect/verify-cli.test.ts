// `cloud-images verify` through the real CLI: exit codes 0/1/2, the --json verdict, the human report
// naming each failing check with expected vs found, and usage errors on one line.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { verdictSchema } from "../../src/manifest/manifest.js";
import { CHECKS } from "../../src/policy/checks/index.js";
import { runCli } from "../helpers/cli.js";
import { expectedListFile, image, removeDir, tempDir } from "./images.js";

let tmp: string;
let al9: BuiltImage;
let al10v2: BuiltImage;
let noRelease: BuiltImage;

beforeAll(async () => {
  tmp = tempDir("verify-cli");
  [al9, al10v2, noRelease] = await Promise.all([image("al9"), image("al10v2"), image("noReleaseFile")]);
});

afterAll(() => removeDir(tmp));

describe("verify", () => {
  it("exit 0 and a PASS line per check for a good image (leg expectations)", async () => {
    const out = join(tmp, "ok.txt");
    const r = await runCli([
      "verify",
      al9.paths["qcow2-zlib"]!,
      ...["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"],
      ...["--packages-out", out],
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`image: ${al9.paths["qcow2-zlib"]}`);
    expect(lines.slice(1, -1).map((l) => l.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "PASS release-file",
      "PASS rpmdb",
      "PASS release-package",
      "PASS root-partition",
      "PASS os-release",
      // the gencloud acceptance policy (--deep adds file-integrity)
      ...CHECKS.filter((c) => !c.deep).map((c) => `PASS ${c.name}`),
      "PASS package-list",
    ]);
    expect(lines.at(-1)).toBe("verdict: PASSED");
    expect(readFileSync(out, "utf8")).toBe(expectedListFile(al9));
  });

  it("--json prints the verdict the leg manifest stores", async () => {
    const out = join(tmp, "json.txt");
    const r = await runCli([
      "verify",
      al9.paths.raw!,
      ...["--release-string", "AlmaLinux release 9.6", "--arch", "x86_64", "--root-partition", "4"],
      ...["--packages-out", out, "--json"],
    ]);
    expect(r.code).toBe(0);
    const verdict = JSON.parse(r.stdout);
    expect(verdictSchema.strict().parse(verdict)).toEqual(verdict);
    expect(verdict).toMatchObject({
      passed: true,
      image: al9.paths.raw,
      rootPartition: 4,
      packageCount: al9.expected.packageNames.length,
      packagesFile: out,
    });
    expect(verdict.checks.map((c: { name: string }) => c.name)).toEqual([
      "release-file",
      "rpmdb",
      "release-package",
      "root-partition",
      "os-release",
      "package-list",
    ]);
    for (const c of verdict.checks)
      expect(Object.keys(c).sort()).toEqual(expect.arrayContaining(["message", "name", "status"]));
  });

  it("exit 1 naming each failing check with expected vs found (x86_64_v2 image, --arch x86_64)", async () => {
    const r = await runCli([
      "verify",
      al10v2.paths["qcow2-zstd"]!,
      ...[
        "--release-string",
        "AlmaLinux release 10.1",
        "--arch",
        "x86_64",
        "--packages-out",
        join(tmp, "v2.txt"),
      ],
    ]);
    expect(r.code).toBe(1);
    const fail = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
    expect(fail).toHaveLength(1);
    expect(fail[0]).toMatch(
      /^FAIL\s+release-package\s+.*ARCH must be exactly x86_64 \(expected: x86_64, found: x86_64_v2\)$/,
    );
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("verdict: FAILED (release-package)");
    expect(r.stderr).toBe("");
  });

  it("exit 1 for a missing release file; warnings alone do not fail", async () => {
    const r = await runCli([
      "verify",
      noRelease.paths.raw!,
      ...["--release-string", "AlmaLinux release 9.6", "--arch", "x86_64", "--root-partition", "3"],
      ...["--packages-out", join(tmp, "nr.txt")],
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^FAIL\s+release-file\s+.*\(expected: AlmaLinux release 9\.6, found: missing\)$/m,
    );
    expect(r.stdout).toMatch(/^WARN\s+root-partition\s+.*\(expected: 3, found: 4\)$/m);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("verdict: FAILED (release-file), 1 warning");

    const warnOnly = await runCli([
      "verify",
      al9.paths.raw!,
      ...[
        "--type",
        "gencloud",
        "--variant",
        "9",
        "--arch",
        "x86_64",
        "--release",
        "9.6",
        "--root-partition",
        "3",
      ],
      ...["--packages-out", join(tmp, "w.txt")],
    ]);
    expect(warnOnly.code).toBe(0);
    expect(warnOnly.stdout.trimEnd().split("\n").at(-1)).toBe("verdict: PASSED, 1 warning");
  });

  it.each([
    [
      ["--arch", "x86_64"],
      "give --release-string S and --arch A, or --type T --variant V --arch A --release R",
    ],
    [
      ["--release-string", "AlmaLinux release 9.6"],
      "give --release-string S and --arch A, or --type T --variant V --arch A --release R",
    ],
    [
      [
        "--type",
        "gencloud",
        "--variant",
        "9",
        "--arch",
        "x86_64",
        "--release",
        "9.6",
        "--release-string",
        "x",
      ],
      "give either --release-string or --type/--variant, not both",
    ],
    [
      ["--type", "gencloud", "--arch", "x86_64"],
      "a catalog leg needs --type, --variant and --arch (and --release)",
    ],
    [["--type", "oci", "--variant", "10-kitten", "--arch", "x86_64", "--release", "10"], null],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64"],
      "a release is required for version 9 (for example 9.0)",
    ],
    [
      ["--release-string", "AlmaLinux release 9.6", "--arch", "x86_64", "--root-partition", "four"],
      'invalid partition number "four" (valid: 1-999)',
    ],
    [
      ["--release-string", "AlmaLinux release 9.6", "--arch", "x86 64"],
      'invalid arch "x86 64" (valid: x86_64, x86_64_v2, aarch64)',
    ],
    [["--release-string", "AlmaLinux release 9.6", "--arch", "x86_64", "--backend", "loop"], null],
  ])("usage error, exit 2, one line: %j", async (args, message) => {
    const out = join(tmp, `never-${args.join("_").replace(/[^A-Za-z0-9_.-]/g, "")}.txt`);
    const r = await runCli(["verify", al9.paths.raw!, ...args, "--packages-out", out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    if (message !== null) expect(r.stderr).toBe(`cloud-images: error: ${message}\n`);
    else expect(r.stderr.length).toBeGreaterThan(0);
    expect(() => readFileSync(out)).toThrow();
  });

  it("an image that is not an image: exit 1, one line, nothing written", async () => {
    const bogus = join(tmp, "bogus.qcow2");
    writeFileSync(bogus, "not a disk image at all\n".repeat(1000));
    const r = await runCli([
      "verify",
      bogus,
      "--release-string",
      "AlmaLinux release 9.6",
      "--arch",
      "x86_64",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^cloud-images: error: /);
    expect(() => readFileSync(`${bogus}.txt`)).toThrow();
  });

  it("CLOUD_IMAGES_STATS=1 reports how much of the image was read", async () => {
    const r = await runCli(
      [
        "verify",
        al9.paths.raw!,
        "--release-string",
        "AlmaLinux release 9.6",
        "--arch",
        "x86_64",
        "--packages-out",
        join(tmp, "s.txt"),
      ],
      { env: { CLOUD_IMAGES_STATS: "1" } },
    );
    expect(r.code).toBe(0);
    const m = /^cloud-images: stats: bytesRead=(\d+) (.*)$/m.exec(r.stderr);
    expect(m).not.toBeNull();
    // and where the time went, phase by phase (milliseconds)
    const phases = Object.fromEntries(m![2]!.split(" ").map((f) => f.split("=")));
    for (const phase of ["ms.start", "ms.load", "ms.open", "ms.rpmdb-read", "ms.rpmdb-walk", "ms.total"])
      expect(Number(phases[phase]), phase).toBeGreaterThan(0);
    expect(Number(phases["ms.total"])).toBeGreaterThan(Number(phases["ms.rpmdb-walk"]));
    // at least the rpm database file, far less than the 10 GiB disk
    const db = readFileSync(join(al9.rpmdbDir, "rpmdb.sqlite")).length;
    expect(Number(m![1])).toBeGreaterThan(db);
    expect(Number(m![1])).toBeLessThan(32 * 1024 * 1024);
  });
});
