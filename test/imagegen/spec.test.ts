import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { planLayout } from "../../imagegen/layout.js";
import { plannedPackages, releasePackage } from "../../imagegen/packages.js";
import { kernelVersion, osReleaseContent, releaseFileContent } from "../../imagegen/release.js";
import { cacheKey, type ImageSpec, normalizeSpec, parseSize } from "../../imagegen/spec.js";
import { UsageError } from "../../src/errors.js";

const base: ImageSpec = { arch: "x86_64", el: "9", release: "9.6", rootfs: "xfs", formats: ["qcow2"] };
const LISTS = new URL("../data/packages/", import.meta.url).pathname;

/** `sort -u FILE | grep -v -x -e A -e B`, by the real tools. */
function uniqueNamesWithout(file: string, ...drop: string[]): string[] {
  const sorted = execFileSync("sort", ["-u", `${LISTS}${file}`], { encoding: "utf8", env: { LC_ALL: "C" } });
  return sorted.split("\n").filter((n) => n !== "" && !drop.includes(n));
}

describe("normalizeSpec", () => {
  it("fills the defaults", () => {
    const n = normalizeSpec(base);
    expect(n).toMatchObject({
      packages: "small",
      fillerMiB: 0,
      diskSize: "10G",
      layout: "almalinux",
      rpmdbPath: "/var/lib/rpm",
      releasePackageArch: "x86_64",
    });
    expect(normalizeSpec({ ...base, el: "10", release: "10.1" }).rpmdbPath).toBe("/usr/lib/sysimage/rpm");
    expect(normalizeSpec({ ...base, el: "10-kitten", release: "10" }).rpmdbPath).toBe(
      "/usr/lib/sysimage/rpm",
    );
    expect(normalizeSpec({ ...base, el: "8", release: "8.10" }).rpmdbPath).toBe("/var/lib/rpm");
    expect(normalizeSpec({ ...base, formats: ["qcow2-zstd", "raw", "raw"] }).formats).toEqual([
      "raw",
      "qcow2-zstd",
    ]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["arch", { arch: "sparc" }, /invalid arch "sparc"/],
    ["el", { el: "7" }, /invalid el "7"/],
    ["release", { release: "nine" }, /invalid release/],
    ["format", { formats: ["vhd"] }, /invalid format "vhd"/],
    ["no format", { formats: [] }, /formats is empty/],
    ["size", { diskSize: "ten" }, /invalid size "ten"/],
    ["package name", { packages: ["ok", "bad name"] }, /invalid package name "bad name"/],
    ["relative path", { extraFiles: { "etc/x": "1" } }, /invalid image path/],
    ["dotdot path", { extraFiles: { "/etc/../x": "1" } }, /invalid image path/],
    ["space in path", { extraFiles: { "/etc/a b": "1" } }, /invalid image path/],
    ["filler", { fillerMiB: -1 }, /invalid fillerMiB/],
  ])("refuses a bad %s with a UsageError", (_what, patch, message) => {
    const spec = { ...base, ...patch } as unknown as ImageSpec;
    expect(() => normalizeSpec(spec)).toThrow(UsageError);
    expect(() => normalizeSpec(spec)).toThrow(message);
  });

  it("parses sizes in binary units", () => {
    expect(parseSize("10G")).toBe(10 * 1024 ** 3);
    expect(parseSize("4096M")).toBe(4 * 1024 ** 3);
    expect(parseSize("2GiB")).toBe(2 * 1024 ** 3);
    expect(parseSize("512")).toBe(512);
  });
});

describe("cacheKey", () => {
  it("ignores key order and changes with content, Buffers included", () => {
    const a = normalizeSpec({ ...base, extraFiles: { "/a": "1", "/b": Buffer.from([1, 2]) } });
    const b = normalizeSpec({ ...base, extraFiles: { "/b": Buffer.from([1, 2]), "/a": "1" } });
    const c = normalizeSpec({ ...base, extraFiles: { "/a": "1", "/b": Buffer.from([1, 3]) } });
    expect(cacheKey(a, null)).toBe(cacheKey(b, null));
    expect(cacheKey(a, null)).not.toBe(cacheKey(c, null));
    expect(cacheKey(a, null)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("planLayout", () => {
  // Hand-computed: 10 GiB = 20971520 sectors; last usable = 20971520 - 34.
  it("is the AlmaLinux x86_64 layout", () => {
    expect(
      planLayout("x86_64", 10 * 1024 ** 3).map((p) => [p.number, p.type, p.firstSector, p.lastSector]),
    ).toEqual([
      [1, "EF02", 2048, 4095],
      [2, "EF00", 4096, 413695],
      [3, "8300", 413696, 2510847],
      [4, "8300", 2510848, 20971486],
    ]);
  });

  it("is the AlmaLinux aarch64 layout", () => {
    expect(
      planLayout("aarch64", 10 * 1024 ** 3).map((p) => [p.number, p.type, p.firstSector, p.lastSector]),
    ).toEqual([
      [1, "EF00", 2048, 411647],
      [2, "8300", 411648, 2508799],
      [3, "8300", 2508800, 20971486],
    ]);
  });

  it("refuses a disk too small for a root filesystem", () => {
    expect(() => planLayout("x86_64", 1024 ** 3)).toThrow(/disk size too small for the x86_64 layout/);
  });
});

describe("release files", () => {
  it("writes AlmaLinux's release strings", () => {
    expect(releaseFileContent(normalizeSpec(base))).toBe("AlmaLinux release 9.6 (Sage Margay)\n");
    expect(releaseFileContent(normalizeSpec({ ...base, el: "8", release: "8.10" }))).toBe(
      "AlmaLinux release 8.10 (Cerulean Leopard)\n",
    );
    expect(releaseFileContent(normalizeSpec({ ...base, el: "10", release: "10.1" }))).toBe(
      "AlmaLinux release 10.1 (Purple Lion)\n",
    );
    expect(releaseFileContent(normalizeSpec({ ...base, el: "10-kitten", release: "10" }))).toBe(
      "AlmaLinux Kitten release 10 (Lion Cub)\n",
    );
    expect(releaseFileContent(normalizeSpec({ ...base, releaseFile: null }))).toBeNull();
  });

  it("writes os-release in AlmaLinux's format", () => {
    expect(osReleaseContent(normalizeSpec(base))).toBe(
      [
        'NAME="AlmaLinux"',
        'VERSION="9.6 (Sage Margay)"',
        'ID="almalinux"',
        'ID_LIKE="rhel centos fedora"',
        'VERSION_ID="9.6"',
        'PLATFORM_ID="platform:el9"',
        'PRETTY_NAME="AlmaLinux 9.6 (Sage Margay)"',
        'ANSI_COLOR="0;34"',
        'LOGO="fedora-logo-icon"',
        'CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"',
        'HOME_URL="https://almalinux.org/"',
        'DOCUMENTATION_URL="https://wiki.almalinux.org/"',
        'BUG_REPORT_URL="https://bugs.almalinux.org/"',
        "",
        'ALMALINUX_MANTISBT_PROJECT="AlmaLinux-9"',
        'ALMALINUX_MANTISBT_PROJECT_VERSION="9.6"',
        'REDHAT_SUPPORT_PRODUCT="AlmaLinux"',
        'REDHAT_SUPPORT_PRODUCT_VERSION="9.6"',
        "SUPPORT_END=2032-06-01",
        "",
      ].join("\n"),
    );
  });

  it("merges os-release overrides and appends new keys", () => {
    const text = osReleaseContent(
      normalizeSpec({ ...base, osRelease: { VERSION_ID: "9.5", VARIANT: "x" } }),
    )!;
    expect(text).toContain('\nVERSION_ID="9.5"\n');
    expect(text).not.toContain('VERSION_ID="9.6"');
    expect(text.endsWith('VARIANT="x"\n')).toBe(true);
    expect(osReleaseContent(normalizeSpec({ ...base, osRelease: null }))).toBeNull();
  });

  it("names Kitten's release package and os-release", () => {
    const k = normalizeSpec({ ...base, el: "10-kitten", release: "10" });
    expect(releasePackage(k)).toMatchObject({ name: "almalinux-kitten-release", version: "10" });
    const text = osReleaseContent(k)!;
    expect(text).toContain('NAME="AlmaLinux Kitten"\n');
    expect(text).toContain('ID="almalinux"\n');
    expect(text).toContain('VERSION_ID="10"\n');
  });
});

describe("package plans", () => {
  it("takes AlmaLinux 8's real (OCI) list once per name, without gpg-pubkey or the release package", () => {
    const names = plannedPackages(
      normalizeSpec({ ...base, el: "8", release: "8.10", packages: "realistic", imageType: "oci" }),
    ).map((p) => p.name);
    const expected = uniqueNamesWithout(
      "AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt",
      "gpg-pubkey",
      "almalinux-release",
    );
    expect([...names].sort()).toEqual([...expected].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it("drops almalinux-release from Kitten's list (it gets almalinux-kitten-release)", () => {
    const names = plannedPackages(
      normalizeSpec({ ...base, el: "10-kitten", release: "10", packages: "realistic" }),
    ).map((p) => p.name);
    expect(names).not.toContain("almalinux-release");
    expect(names.length).toBe(
      uniqueNamesWithout(
        "AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64.qcow2.txt",
        "almalinux-release",
        "gpg-pubkey",
      ).length,
    );
  });

  it("gives the kernel packages the version-release of the kernel in the tree", () => {
    for (const [el, arch, vr] of [
      ["9", "x86_64", "5.14.0-570.12.1.el9_6"],
      ["10", "x86_64_v2", "6.12.0-55.9.1.el10_0"],
    ] as const) {
      const plan = plannedPackages(normalizeSpec({ ...base, el, arch, release: el, packages: "realistic" }));
      const kernels = plan.filter((p) => /^kernel(-core|-modules)?$/.test(p.name));
      expect(kernels.map((p) => p.name).sort()).toEqual(["kernel", "kernel-core", "kernel-modules"]);
      for (const k of kernels) expect(`${k.version}-${k.release}`).toBe(vr);
      expect(kernelVersion(el, arch)).toBe(`${vr}.${arch}`);
    }
  });

  it("gives some packages an epoch and some noarch, stably", () => {
    const plan = plannedPackages(normalizeSpec({ ...base, packages: "realistic" }));
    const byName = new Map(plan.map((p) => [p.name, p]));
    expect(byName.get("shadow-utils")!.epoch).toBe(2);
    expect(byName.get("bash")!.epoch).toBeNull();
    expect(byName.get("tzdata")!.noarch).toBe(true);
    expect(byName.get("bash")!.noarch).toBe(false);
    expect(plannedPackages(normalizeSpec({ ...base, packages: "realistic" }))).toEqual(plan);
  });
});
