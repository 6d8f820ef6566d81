import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { allLegs } from "../../src/catalog/catalog.js";
import { resolve, resolveLeg } from "../../src/resolve/resolve.js";
import { runCli } from "../helpers/cli.js";

const RELEASES: Record<string, string> = { "8": "8.10", "9": "9.6", "10": "10.1", "10-kitten": "10" };
const TS = "20260220143000";

const expected = readFileSync(new URL("../data/legs.expected.tsv", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => {
    const [type, variant, arch, source, mask, s3] = l.split("\t") as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return { type, variant, arch, source, mask, s3 };
  });

const releaseOf = (variant: string) => RELEASES[variant.replace(/-(v2|64k)$/, "")]!;

describe("resolve", () => {
  it("the expected table covers every catalog leg once", () => {
    expect(expected.map((e) => `${e.type} ${e.variant} ${e.arch}`).sort()).toEqual(
      allLegs()
        .map((l) => `${l.type} ${l.variant} ${l.arch}`)
        .sort(),
    );
  });

  it.each(expected)("$type $variant $arch: CLI --env reproduces the seed script's four values", async (e) => {
    const r = await runCli([
      "resolve",
      "--type",
      e.type,
      "--variant",
      e.variant,
      "--arch",
      e.arch,
      "--release",
      releaseOf(e.variant),
      "--timestamp",
      TS,
      "--env",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `packer_source=${e.source}\noutput_mask=${e.mask}\nAWS_S3_PATH=${e.s3}\npacker_builder=qemu\n`,
    );
  });

  it("--json has exactly the documented keys", async () => {
    const r = await runCli([
      "resolve",
      "--type",
      "opennebula",
      "--variant",
      "10-v2",
      "--arch",
      "x86_64",
      "--release",
      "10.1",
      "--timestamp",
      TS,
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      packerSource: "qemu.almalinux_10_opennebula_x86_64_v2",
      packerBuilder: "qemu",
      outputMask: "output-almalinux_10_opennebula_x86_64_v2/AlmaLinux-*.x86_64*.qcow2",
      s3Prefix: "images/10/10.1/opennebula/20260220143000",
      versionMajor: "10",
      almaArch: "x86_64_v2",
      release: "10.1",
      releaseString: "AlmaLinux release 10.1",
      releasePackage: "almalinux-release",
      imageType: "Opennebula",
      rootPartition: 4,
      imageFormat: "qcow2",
      rootFilesystem: "xfs",
    });
  });

  it("release strings, packages, labels and partitions", () => {
    const kitten = resolve({ type: "gencloud_ext4", variant: "10-kitten", arch: "aarch64", timestamp: TS });
    expect(kitten.releaseString).toBe("AlmaLinux Kitten release 10");
    expect(kitten.releasePackage).toBe("almalinux-kitten-release");
    expect(kitten.imageType).toBe("Gencloud Ext4");
    expect(kitten.rootPartition).toBe(3);
    expect(kitten.rootFilesystem).toBe("ext4");
    const az = resolveLeg({ type: "azure", variant: "9-64k", arch: "aarch64" }, "9.6", TS);
    expect(az.imageType).toBe("Azure 64k");
    expect(az.almaArch).toBe("aarch64");
    expect(az.imageFormat).toBe("raw");
    expect(az.releaseString).toBe("AlmaLinux release 9.6");
  });

  it.each([
    [
      ["--type", "oci", "--variant", "10-kitten", "--arch", "x86_64"],
      /oci 10-kitten x86_64 is not a leg.*oci x86_64 variants: 8, 9, 10/,
    ],
    [
      ["--type", "azure", "--variant", "9-64k", "--arch", "x86_64"],
      /azure x86_64 variants: 8, 9, 10, 10-kitten/,
    ],
    [["--type", "gencloud", "--variant", "10-64k", "--arch", "aarch64"], /not a leg/],
    [["--type", "gencloud", "--variant", "10-v2", "--arch", "aarch64"], /not a leg/],
    [["--type", "gencloud", "--variant", "9-v2", "--arch", "x86_64"], /not a leg/],
    [["--type", "azure", "--variant", "8", "--arch", "aarch64"], /azure aarch64 variants: 9, 9-64k/],
    [
      ["--type", "hyperv", "--variant", "9", "--arch", "x86_64"],
      /unknown image type "hyperv" \(valid: azure, gencloud, gencloud_ext4, oci, opennebula\)/,
    ],
    [["--type", "oci", "--variant", "11", "--arch", "x86_64"], /unknown variant "11"/],
    [
      ["--type", "oci", "--variant", "9", "--arch", "s390x"],
      /unknown arch "s390x" \(valid: x86_64, aarch64\)/,
    ],
  ])("refuses %j with one line and exit 2", async (args, message) => {
    const r = await runCli(["resolve", ...args, "--release", "9.6", "--timestamp", TS, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it.each([
    ["2026022014300", "14 digits"],
    ["20260230143000", "not a real UTC date"],
    ["20261301000000", "not a real UTC date"],
    ["20260220250000", "not a real UTC date"],
    ["$(touch /tmp/x)", "14 digits"],
    ["2026022014300`", "14 digits"],
    ["20260220143000;id", "14 digits"],
  ])("refuses time stamp %s", async (ts, message) => {
    const r = await runCli([
      "resolve",
      "--type",
      "oci",
      "--variant",
      "9",
      "--arch",
      "x86_64",
      "--release",
      "9.6",
      "--timestamp",
      ts,
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
  });

  it("refuses releases that do not belong to the version", () => {
    expect(() =>
      resolve({ type: "oci", variant: "9", arch: "x86_64", release: "8.10", timestamp: TS }),
    ).toThrow(/invalid release "8.10" for version 9 \(valid: 9.N\)/);
    expect(() => resolve({ type: "oci", variant: "9", arch: "x86_64", timestamp: TS })).toThrow(
      /release is required/,
    );
    expect(() =>
      resolve({ type: "gencloud", variant: "10-kitten", arch: "x86_64", release: "10.1", timestamp: TS }),
    ).toThrow(/valid: 10/);
    expect(() =>
      resolve({ type: "oci", variant: "9", arch: "x86_64", release: "9.6;rm", timestamp: TS }),
    ).toThrow(/invalid release/);
  });
});
