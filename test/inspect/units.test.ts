// The pure pieces: rpm's version order against rpm itself, the seed's list format against sort(1),
// purls, license classification, the checks on hand-made observations, package-list sniffing.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  containsRelease,
  type Observations,
  releaseFromString,
  runChecks,
} from "../../src/inspect/checks.js";
import { packageNamesText } from "../../src/inspect/package-list.js";
import { detectPackageListKind, parsePackageListJson } from "../../src/inspect/package-source.js";
import { packagePurl } from "../../src/inspect/purl.js";
import { compareEvr, rpmvercmp } from "../../src/inspect/rpmvercmp.js";
import { classifyLicense, isSpdxExpression } from "../../src/inspect/spdx-license.js";
import { rng } from "../helpers/mutate.js";
import { sortC } from "./images.js";

/** rpm.vercmp (rpm's own Lua binding) on many pairs in one rpm run. */
function rpmVercmp(pairs: readonly [string, string][]): number[] {
  const lua = pairs
    .map(([a, b]) => `print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) .. " ")`)
    .join("\n");
  const r = spawnSync("rpm", ["--eval", `%{lua:\n${lua}\n}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split(/\s+/).map(Number);
}

describe("rpm's version order", () => {
  it("agrees with rpm.vercmp on hand-picked and 2000 random versions", () => {
    const pairs: [string, string][] = [
      ["1.0", "1.0"],
      ["1.0", "1.0a"],
      ["1.0~rc1", "1.0"],
      ["1.0^git1", "1.0"],
      ["1.0^git1", "1.0.1"],
      ["1.0~rc1", "1.0~rc2"],
      ["2.0", "10"],
      ["1.010", "1.9"],
      ["1.001", "1.1"],
      ["a", "1"],
      ["1.a", "1.1"],
      ["5.14.0", "5.14.0.1"],
      ["1..0", "1.0"],
      ["abc", "abd"],
      ["FOO", "foo"],
      ["1_0", "1.0"],
      ["1", "1~"],
      ["1~", "1~~"],
      ["1^", "1"],
      ["1^", "1~"],
    ];
    const r = rng(20260220);
    const alphabet = "0123456789ab.~^_Z";
    const word = () =>
      Array.from({ length: 1 + Math.floor(r() * 7) }, () => alphabet[Math.floor(r() * alphabet.length)]).join(
        "",
      );
    for (let i = 0; i < 2000; i++) {
      const a = word();
      pairs.push([a, r() < 0.3 ? a.replace(/.$/, word()[0]!) : word()]);
    }
    const expected = rpmVercmp(pairs);
    expect(pairs.map(([a, b]) => rpmvercmp(a, b))).toEqual(expected);
  });

  it("orders epoch, then version, then release, as rpm.vercmp on E:V-R", () => {
    const evrs = [
      { epoch: null, version: "2.0", release: "1" },
      { epoch: 1, version: "1.0", release: "1" },
      { epoch: 0, version: "2.0", release: "1" },
      { epoch: null, version: "2.0", release: "1.el9" },
      { epoch: null, version: "2.0", release: "1.el9_1" },
      { epoch: 2, version: "0.1", release: "0" },
    ];
    const text = (e: (typeof evrs)[number]) =>
      `${e.epoch === null ? "" : `${e.epoch}:`}${e.version}-${e.release}`;
    const pairs = evrs.flatMap((a) => evrs.map((b) => [a, b] as const));
    const expected = rpmVercmp(pairs.map(([a, b]) => [text(a), text(b)]));
    expect(pairs.map(([a, b]) => compareEvr(a, b))).toEqual(expected);
  });
});

describe("the seed's package-name list", () => {
  it("is sort(1) in the C locale: byte order, duplicates kept, trailing newline", () => {
    const names = [
      "gpg-pubkey",
      "NetworkManager",
      "zlib",
      "gpg-pubkey",
      "libstdc++",
      "_x",
      "Äpfel",
      "a",
      "B",
      "kernel",
      "kernel",
    ];
    const text = packageNamesText(names);
    expect(text).toBe(
      sortC(names)
        .map((n) => `${n}\n`)
        .join(""),
    );
    expect(text.match(/^gpg-pubkey$/gm)).toHaveLength(2);
    expect(packageNamesText([])).toBe("");
  });
});

describe("purls", () => {
  const ctx = { namespace: "almalinux", distro: "almalinux-9.6" };
  it("canonical form: encoded name and version, sorted qualifiers, epoch only when set", () => {
    expect(
      packagePurl(
        { name: "NetworkManager", epoch: 1, version: "1.48.10", release: "5.el9", arch: "x86_64" },
        ctx,
      ),
    ).toBe("pkg:rpm/almalinux/NetworkManager@1.48.10-5.el9?arch=x86_64&distro=almalinux-9.6&epoch=1");
    expect(
      packagePurl(
        { name: "libstdc++", epoch: null, version: "11.5.0", release: "2.el9", arch: "x86_64" },
        ctx,
      ),
    ).toBe("pkg:rpm/almalinux/libstdc%2B%2B@11.5.0-2.el9?arch=x86_64&distro=almalinux-9.6");
    expect(
      packagePurl(
        { name: "gpg-pubkey", epoch: null, version: "b86b3716", release: "61e69f29", arch: null },
        ctx,
      ),
    ).toBe("pkg:rpm/almalinux/gpg-pubkey@b86b3716-61e69f29?distro=almalinux-9.6");
    expect(
      packagePurl(
        { name: "tzdata", epoch: 0, version: "2025a", release: "1.el9", arch: "noarch" },
        { namespace: "almalinux" },
      ),
    ).toBe("pkg:rpm/almalinux/tzdata@2025a-1.el9?arch=noarch&epoch=0");
  });
});

describe("license strings", () => {
  it.each([
    ["MIT", { kind: "id", id: "MIT" }],
    [
      "GPL-2.0-or-later AND LGPL-2.1-or-later",
      { kind: "expression", expression: "GPL-2.0-or-later AND LGPL-2.1-or-later" },
    ],
    [
      "(MIT OR Apache-2.0) AND BSD-3-Clause",
      { kind: "expression", expression: "(MIT OR Apache-2.0) AND BSD-3-Clause" },
    ],
    [
      "GPL-2.0-only WITH Linux-syscall-note",
      { kind: "expression", expression: "GPL-2.0-only WITH Linux-syscall-note" },
    ],
    [
      "LicenseRef-Fedora-Public-Domain",
      { kind: "expression", expression: "LicenseRef-Fedora-Public-Domain" },
    ],
    ["GPL-2.0+", { kind: "id", id: "GPL-2.0+" }],
    ["GPLv2+ and LGPLv2+", { kind: "other", text: "GPLv2+ and LGPLv2+" }],
    ["GPLv3+", { kind: "other", text: "GPLv3+" }],
    ["MIT and", { kind: "other", text: "MIT and" }],
    ["(MIT", { kind: "other", text: "(MIT" }],
    ["MIT AND", { kind: "other", text: "MIT AND" }],
    ["", { kind: "none" }],
  ])("%j → %j", (raw, expected) => {
    expect(classifyLicense(raw)).toEqual(expected);
  });

  it("operators must be upper case and identifiers known", () => {
    expect(isSpdxExpression("MIT or Apache-2.0")).toBe(false);
    expect(isSpdxExpression("NotALicense")).toBe(false);
    expect(isSpdxExpression("MIT WITH NotAnException")).toBe(false);
  });
});

describe("checks on hand-made observations", () => {
  const base: Observations = {
    root: { partition: 4, filesystem: "xfs", foundBy: "marker" },
    releaseFile: { ok: true, value: "AlmaLinux release 9.6 (Sage Margay)\n" },
    osRelease: { ok: true, value: 'ID="almalinux"\nVERSION_ID="9.6"\n' },
    buildStamp: { ok: false, error: "no such file" },
    packages: {
      ok: true,
      value: {
        format: "sqlite",
        dbPath: "/var/lib/rpm",
        names: ["almalinux-release", "bash"],
        releasePackage: [{ nevra: "almalinux-release-9.6-1.el9.x86_64", arch: "x86_64" }],
      },
    },
  };
  const exp = { releaseString: "AlmaLinux release 9.6", arch: "x86_64", rootPartition: 4 };

  it("several instances of the release package are all listed, and all must match", () => {
    const pkgs = {
      format: "sqlite",
      dbPath: "/var/lib/rpm",
      names: ["almalinux-release", "almalinux-release"],
    };
    const two: Observations = {
      ...base,
      packages: {
        ok: true,
        value: {
          ...pkgs,
          releasePackage: [
            { nevra: "almalinux-release-9.6-1.el9.x86_64_v2", arch: "x86_64_v2" },
            { nevra: "almalinux-release-9.6-1.el9.x86_64", arch: "x86_64" },
          ],
        },
      },
    };
    const check = runChecks(two, exp).find((c) => c.name === "release-package")!;
    expect(check).toEqual({
      name: "release-package",
      expected: "x86_64",
      status: "fail",
      found: "x86_64, x86_64_v2",
      message:
        "2 instances of almalinux-release (almalinux-release-9.6-1.el9.x86_64, almalinux-release-9.6-1.el9.x86_64_v2); each ARCH must be exactly x86_64",
    });
  });

  it("the build stamp is checked only when expected, and skipped when the image has none", () => {
    expect(runChecks(base, exp).some((c) => c.name === "build-stamp")).toBe(false);
    const stamp = (o: Observations) => runChecks(o, { ...exp, buildStamp: "20260220143000" }).at(-1);
    expect(stamp(base)).toMatchObject({ name: "build-stamp", status: "skip", found: "none" });
    const same = { ...base, buildStamp: { ok: true as const, value: "20260220143000\n" } };
    expect(stamp(same)).toMatchObject({ status: "pass", found: "20260220143000" });
    const other = { ...base, buildStamp: { ok: true as const, value: "20250101000000\n" } };
    expect(stamp(other)).toMatchObject({
      status: "fail",
      found: "20250101000000",
      expected: "20260220143000",
    });
  });

  it("a release package missing from the database fails", () => {
    const none = {
      ...base,
      packages: {
        ok: true as const,
        value: { format: "sqlite", dbPath: "/var/lib/rpm", names: ["bash"], releasePackage: [] },
      },
    };
    expect(runChecks(none, exp).find((c) => c.name === "release-package")).toMatchObject({
      status: "fail",
      found: "not installed",
    });
  });

  it("release strings match as whole words", () => {
    expect(containsRelease("AlmaLinux release 8.10 (Cerulean Leopard)\n", "AlmaLinux release 8.1")).toBe(
      false,
    );
    expect(containsRelease("AlmaLinux release 8.10 (Cerulean Leopard)\n", "AlmaLinux release 8.10")).toBe(
      true,
    );
    expect(containsRelease("AlmaLinux release 9.6\n", "AlmaLinux release 9.6")).toBe(true);
    expect(containsRelease("NotAlmaLinux release 9.6\n", "AlmaLinux release 9.6")).toBe(false);
    expect(containsRelease("AlmaLinux Kitten release 10 (Lion Cub)", "AlmaLinux Kitten release 10")).toBe(
      true,
    );
    expect(containsRelease("AlmaLinux release 9.6.", "AlmaLinux release 9.6")).toBe(true);
    expect(releaseFromString("AlmaLinux release 9.6")).toBe("9.6");
    expect(releaseFromString("AlmaLinux Kitten release 10")).toBe("10");
    expect(releaseFromString("something else")).toBeUndefined();
  });
});

describe("package-list files", () => {
  it("are told apart by content", () => {
    expect(detectPackageListKind(Buffer.from("QFI\xfb\0\0\0\x03", "latin1"), 8)).toBe("image");
    expect(detectPackageListKind(Buffer.from('  [{"name":"bash"}]'), 19)).toBe("json");
    expect(detectPackageListKind(Buffer.from("bash\nzlib\n"), 10)).toBe("names");
    expect(detectPackageListKind(Buffer.from(""), 0)).toBe("names");
    expect(detectPackageListKind(Buffer.alloc(512), 1 << 30)).toBe("image");
    expect(detectPackageListKind(Buffer.from("two words\n"), 10)).toBe("image");
  });

  it("JSON lists are checked field by field", () => {
    expect(
      parsePackageListJson(
        '[{"name":"bash","epoch":null,"version":"5.1","release":"1","arch":"x86_64","extra":1}]',
        "x.json",
      ),
    ).toEqual([{ name: "bash", epoch: null, version: "5.1", release: "1", arch: "x86_64" }]);
    expect(parsePackageListJson('{"packages":[{"name":"a"}]}', "x.json")).toEqual([{ name: "a" }]);
    expect(() => parsePackageListJson('[{"name":"bash","epoch":"1"}]', "x.json")).toThrow(
      "x.json is not a package list: [0].epoch is not a non-negative integer or null",
    );
    expect(() => parsePackageListJson("{", "x.json")).toThrow(/x.json is not valid JSON/);
    expect(() => parsePackageListJson('{"a":1}', "x.json")).toThrow(/is not a package list/);
  });
});
