// verifyImage (the library) on generated images: every check's status and found value against what
// imagegen put in (and Debian's rpm read back), the package list byte for byte against
// `rpm -qa --qf '%{NAME}\n' | LC_ALL=C sort`, and broken images giving verdicts, not crashes.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage, ImageFormat } from "../../imagegen/index.js";
import type { CheckStatus, Verdict } from "../../src/inspect/verdict.js";
import { expectationsForLeg, type VerifyExpectations, verifyImage } from "../../src/inspect/verify.js";
import { verdictSchema } from "../../src/manifest/manifest.js";
import {
  copyRaw,
  debugfsWrite,
  expectedListFile,
  image,
  removeDir,
  type SpecName,
  sortC,
  tempDir,
} from "./images.js";

let tmp: string;
const built = new Map<SpecName, BuiltImage>();

beforeAll(async () => {
  tmp = tempDir("verify");
  const names: SpecName[] = [
    "al9",
    "al8",
    "al10v2",
    "al9ext4",
    "kitten",
    "wrongArch",
    "noReleaseFile",
    "osMismatch",
    "noOsRelease",
    "bare",
  ];
  for (const [i, img] of (await Promise.all(names.map(image))).entries()) built.set(names[i]!, img);
});

afterAll(() => removeDir(tmp));

function img(name: SpecName): BuiltImage {
  return built.get(name)!;
}

const firstLine = (s: string | null) => (s ?? "").split("\n")[0]!;

function statuses(v: Verdict): Record<string, CheckStatus> {
  return Object.fromEntries(v.checks.map((c) => [c.name, c.status]));
}

function found(v: Verdict): Record<string, string | undefined> {
  return Object.fromEntries(v.checks.map((c) => [c.name, c.found]));
}

let outCounter = 0;
async function run(
  name: SpecName,
  format: ImageFormat,
  exp: VerifyExpectations,
): Promise<{ verdict: Verdict; out: string }> {
  const out = join(tmp, `list-${outCounter++}.txt`);
  const path = img(name).paths[format]!;
  const verdict = await verifyImage(path, exp, { packagesOut: out });
  expect(verdictSchema.parse(verdict)).toEqual(verdict); // what the leg manifest stores
  expect(verdict.image).toBe(path);
  return { verdict, out };
}

const ALL_PASS = {
  "release-file": "pass",
  rpmdb: "pass",
  "release-package": "pass",
  "root-partition": "pass",
  "os-release": "pass",
  "package-list": "pass",
} as const;

describe("images that are what their leg says", () => {
  const cases: [string, SpecName, ImageFormat, Parameters<typeof expectationsForLeg>[0], string][] = [
    [
      "AL9 x86_64 XFS raw",
      "al9",
      "raw",
      { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" },
      "sqlite at /var/lib/rpm",
    ],
    [
      "AL9 x86_64 XFS qcow2",
      "al9",
      "qcow2",
      { type: "oci", variant: "9", arch: "x86_64", release: "9.6" },
      "sqlite at /var/lib/rpm",
    ],
    [
      "AL9 x86_64 XFS compressed qcow2",
      "al9",
      "qcow2-zlib",
      { type: "opennebula", variant: "9", arch: "x86_64", release: "9.6" },
      "sqlite at /var/lib/rpm",
    ],
    [
      "AL8 aarch64 Berkeley DB",
      "al8",
      "qcow2-zlib",
      { type: "gencloud", variant: "8", arch: "aarch64", release: "8.10" },
      "bdb at /var/lib/rpm",
    ],
    [
      "AL10 x86_64_v2 zstd, /usr/lib/sysimage/rpm",
      "al10v2",
      "qcow2-zstd",
      { type: "gencloud", variant: "10-v2", arch: "x86_64", release: "10.1" },
      "sqlite at /usr/lib/sysimage/rpm",
    ],
    [
      "AL9 ext4",
      "al9ext4",
      "raw",
      { type: "gencloud_ext4", variant: "9", arch: "x86_64", release: "9.6" },
      "sqlite at /var/lib/rpm",
    ],
    [
      "Kitten 10",
      "kitten",
      "qcow2",
      { type: "gencloud", variant: "10-kitten", arch: "x86_64" },
      "sqlite at /usr/lib/sysimage/rpm",
    ],
  ];
  it.each(cases)("%s: every check passes, the list matches rpm's", async (_, name, format, leg, db) => {
    const image = img(name);
    const exp = expectationsForLeg(leg);
    const { verdict, out } = await run(name, format, exp);
    expect(statuses(verdict)).toEqual(ALL_PASS);
    expect(found(verdict)).toEqual({
      "release-file": firstLine(image.expected.releaseFileContent),
      rpmdb: db,
      "release-package": image.expected.releasePackageArch,
      "root-partition": String(image.rootPartition),
      "os-release": `ID=almalinux VERSION_ID=${image.spec.release}`,
      "package-list": out,
    });
    expect(verdict).toMatchObject({
      passed: true,
      rootPartition: image.rootPartition,
      packageCount: image.expected.packageNames.length,
      packagesFile: out,
    });
    expect(readFileSync(out, "utf8")).toBe(expectedListFile(image));
  });

  it("takes Kitten's release package and release string from the catalog", () => {
    expect(expectationsForLeg({ type: "gencloud", variant: "10-kitten", arch: "x86_64" })).toEqual({
      releaseString: "AlmaLinux Kitten release 10",
      arch: "x86_64",
      releasePackage: "almalinux-kitten-release",
      rootPartition: 4,
      release: "10",
    });
    expect(img("kitten").expected.releasePackage).toBe("almalinux-kitten-release");
  });

  it("writes the list in exactly the seed's format (sort in the C locale, one name a line)", async () => {
    const { out } = await run(
      "al8",
      "qcow2-zlib",
      expectationsForLeg({ type: "oci", variant: "8", arch: "aarch64", release: "8.10" }),
    );
    const text = readFileSync(out, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    // the real sort agrees with the order, and rpm agrees with the content
    expect(sortC(text.split("\n").slice(0, -1))).toEqual(text.split("\n").slice(0, -1));
    expect(text).toBe(`${img("al8").expected.packageNames.join("\n")}\n`);
    expect(text.split("\n").length - 1).toBeGreaterThan(400);
  });
});

describe("images that are not what was asked", () => {
  it("an x86_64_v2 image fails an --arch x86_64 check (no substring match)", async () => {
    const { verdict } = await run("al10v2", "qcow2-zstd", {
      releaseString: "AlmaLinux release 10.1",
      arch: "x86_64",
      release: "10.1",
    });
    expect(verdict.passed).toBe(false);
    const check = verdict.checks.find((c) => c.name === "release-package")!;
    expect(check).toMatchObject({ status: "fail", expected: "x86_64", found: "x86_64_v2" });
    expect(check.message).toMatch(/almalinux-release-10\.1-\S+\.x86_64_v2: ARCH must be exactly x86_64/);
  });

  it("a release package built for another arch fails", async () => {
    const { verdict, out } = await run(
      "wrongArch",
      "raw",
      expectationsForLeg({ type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" }),
    );
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "release-package": "fail" });
    expect(found(verdict)["release-package"]).toBe(img("wrongArch").expected.releasePackageArch);
    expect(found(verdict)["release-package"]).toBe("aarch64");
    expect(readFileSync(out, "utf8")).toBe(expectedListFile(img("wrongArch")));
  });

  it("a missing /etc/almalinux-release is a failed check", async () => {
    const { verdict } = await run(
      "noReleaseFile",
      "raw",
      expectationsForLeg({ type: "gencloud_ext4", variant: "9", arch: "x86_64", release: "9.6" }),
    );
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "release-file": "fail" });
    const check = verdict.checks[0]!;
    expect(check).toMatchObject({
      name: "release-file",
      found: "missing",
      expected: "AlmaLinux release 9.6",
    });
    expect(check.message).toContain("no such file or directory: /etc/almalinux-release");
  });

  it("an os-release of another distribution and version fails", async () => {
    const { verdict } = await run(
      "osMismatch",
      "raw",
      expectationsForLeg({ type: "gencloud_ext4", variant: "9", arch: "x86_64", release: "9.6" }),
    );
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "os-release": "fail" });
    const check = verdict.checks.find((c) => c.name === "os-release")!;
    expect(check).toMatchObject({
      expected: "ID=almalinux VERSION_ID=9.6",
      found: "ID=rocky VERSION_ID=9.5",
    });
    expect(check.message).toBe(
      '/etc/os-release: ID is "rocky", expected "almalinux"; VERSION_ID is "9.5", expected "9.6"',
    );
  });

  it("without any os-release, the expected partition is read and both are reported", async () => {
    const { verdict, out } = await run(
      "noOsRelease",
      "raw",
      expectationsForLeg({ type: "gencloud", variant: "9", arch: "aarch64", release: "9.6" }),
    );
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "root-partition": "warn", "os-release": "fail" });
    expect(found(verdict)).toMatchObject({
      "root-partition": "3",
      "os-release": "missing",
      "release-package": "aarch64",
    });
    expect(verdict.passed).toBe(false);
    expect(readFileSync(out, "utf8")).toBe(expectedListFile(img("noOsRelease")));
  });

  it("a root on another partition than expected is a warning naming both", async () => {
    const exp = {
      ...expectationsForLeg({ type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" }),
      rootPartition: 3,
    };
    const { verdict } = await run("al9", "raw", exp);
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "root-partition": "warn" });
    expect(verdict.passed).toBe(true);
    expect(verdict.rootPartition).toBe(4);
    expect(verdict.checks.find((c) => c.name === "root-partition")).toMatchObject({
      expected: "3",
      found: "4",
      message: "root filesystem found on partition 4 (xfs), the catalog expects partition 3",
    });
  });

  it("an 8.10 image does not pass for 8.1, nor 9.6 for 9", async () => {
    const r1 = await run("al8", "qcow2-zlib", { releaseString: "AlmaLinux release 8.1", arch: "aarch64" });
    expect(statuses(r1.verdict)["release-file"]).toBe("fail");
    expect(r1.verdict.checks.find((c) => c.name === "os-release")).toMatchObject({
      status: "fail",
      expected: "ID=almalinux VERSION_ID=8.1",
      found: "ID=almalinux VERSION_ID=8.10",
    });
    const r2 = await run("al9", "raw", { releaseString: "AlmaLinux release 9", arch: "x86_64" });
    expect(statuses(r2.verdict)["release-file"]).toBe("fail");
  });

  it("a bare filesystem image: the whole disk is the root", async () => {
    const exp = { releaseString: "AlmaLinux release 9.6", arch: "x86_64" };
    const { verdict } = await run("bare", "raw", exp);
    expect(statuses(verdict)).toEqual({ ...ALL_PASS, "root-partition": "skip" });
    expect(verdict.rootPartition).toBeUndefined();
    const withExpectation = await run("bare", "raw", { ...exp, rootPartition: 4 });
    expect(withExpectation.verdict.checks.find((c) => c.name === "root-partition")).toMatchObject({
      status: "warn",
      expected: "4",
      found: "whole disk",
    });
  });
});

describe("damaged rpm databases give verdicts", () => {
  const exp = { releaseString: "AlmaLinux release 9.6", arch: "x86_64" };

  it("no rpm database: rpmdb fails, the release package is not checked, no list is written", async () => {
    const disk = copyRaw(img("bare"), tmp, "no-rpmdb.raw");
    debugfsWrite(disk, "rm /var/lib/rpm/rpmdb.sqlite");
    const out = join(tmp, "no-rpmdb.txt");
    const verdict = await verifyImage(disk, exp, { packagesOut: out });
    expect(statuses(verdict)).toEqual({
      ...ALL_PASS,
      rpmdb: "fail",
      "release-package": "skip",
      "root-partition": "skip",
      "package-list": "skip",
    });
    expect(verdict.checks.find((c) => c.name === "rpmdb")!.message).toBe(
      "the rpm database cannot be read: no rpm database in the image (/var/lib/rpm holds no rpmdb.sqlite, Packages.db, Packages; /usr/lib/sysimage/rpm does not exist)",
    );
    expect(verdict.packageCount).toBeUndefined();
    expect(verdict.packagesFile).toBeUndefined();
    expect(readdirSync(tmp)).not.toContain("no-rpmdb.txt");
  });

  it("a database file of garbage: rpmdb fails with the reason", async () => {
    const disk = copyRaw(img("bare"), tmp, "garbage-rpmdb.raw");
    const garbage = join(tmp, "garbage");
    writeFileSync(garbage, Buffer.alloc(300_000, 0x5a));
    debugfsWrite(disk, "rm /var/lib/rpm/rpmdb.sqlite");
    debugfsWrite(disk, `write ${garbage} /var/lib/rpm/rpmdb.sqlite`);
    const verdict = await verifyImage(disk, exp, { packagesOut: null });
    expect(verdict.passed).toBe(false);
    expect(verdict.checks.find((c) => c.name === "rpmdb")).toMatchObject({
      status: "fail",
      found: "unreadable",
      message: "the rpm database cannot be read: rpmdb.sqlite: not an SQLite 3 database",
    });
    expect(verdict.checks.map((c) => c.name)).not.toContain("package-list");
  });

  it("a database cut short: a verdict, not a crash", async () => {
    const disk = copyRaw(img("bare"), tmp, "short-rpmdb.raw");
    const good = join(img("bare").rpmdbDir, "rpmdb.sqlite");
    const short = join(tmp, "short.sqlite");
    writeFileSync(short, readFileSync(good).subarray(0, 3 * 4096 + 100));
    debugfsWrite(disk, "rm /var/lib/rpm/rpmdb.sqlite");
    debugfsWrite(disk, `write ${short} /var/lib/rpm/rpmdb.sqlite`);
    const verdict = await verifyImage(disk, exp, { packagesOut: null });
    expect(verdict.checks.find((c) => c.name === "rpmdb")).toMatchObject({
      status: "fail",
      found: "unreadable",
    });
  });
});

describe("the package records for the caller (an SBOM)", () => {
  it("onPackages gets every installed package read, and is not called without a database", async () => {
    let got: readonly { name: string }[] | undefined;
    const exp = { releaseString: "AlmaLinux release 9.6", arch: "x86_64" };
    await verifyImage(img("bare").paths.raw!, exp, { packagesOut: null, onPackages: (p) => (got = p) });
    expect(sortC(got!.map((p) => p.name))).toEqual(img("bare").expected.packageNames);
    const disk = copyRaw(img("bare"), tmp, "no-rpmdb-2.raw");
    debugfsWrite(disk, "rm /var/lib/rpm/rpmdb.sqlite");
    let called = false;
    await verifyImage(disk, exp, { packagesOut: null, onPackages: () => (called = true) });
    expect(called).toBe(false);
  });
});

describe("the package list file", () => {
  it("defaults to IMAGE.txt beside the image, written atomically (no temporary left)", async () => {
    const dir = tempDir("default-out");
    try {
      const disk = copyRaw(img("bare"), dir, "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.raw");
      writeFileSync(`${disk}.txt`, "stale\n");
      const verdict = await verifyImage(disk, { releaseString: "AlmaLinux release 9.6", arch: "x86_64" });
      expect(verdict.packagesFile).toBe(`${disk}.txt`);
      expect(readFileSync(`${disk}.txt`, "utf8")).toBe(expectedListFile(img("bare")));
      expect(readdirSync(dir).sort()).toEqual([
        "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.raw",
        "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.raw.txt",
      ]);
    } finally {
      removeDir(dir);
    }
  });

  it("an unwritable destination is a failed check, and the other checks still stand", async () => {
    const out = join(tmp, "no-such-dir", "list.txt");
    const verdict = await verifyImage(
      img("bare").paths.raw!,
      { releaseString: "AlmaLinux release 9.6", arch: "x86_64" },
      { packagesOut: out },
    );
    expect(verdict.checks.find((c) => c.name === "package-list")).toMatchObject({
      status: "fail",
      found: "not written",
      message: `cannot write ${out}: no such file`,
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.packagesFile).toBeUndefined();
    expect(verdict.packageCount).toBe(img("bare").expected.packageNames.length);
  });
});
