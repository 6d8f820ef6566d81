import { describe, expect, it } from "vitest";
import {
  ARCHES,
  allLegs,
  IMAGE_TYPE_INFO,
  IMAGE_TYPES,
  LEGS,
  legExists,
  parseVariant,
  WORKFLOWS,
} from "../../src/catalog/catalog.js";
import { requireLeg } from "../../src/catalog/validate.js";
import { NotInCatalogError, type UsageError } from "../../src/errors.js";

describe("catalog", () => {
  it("has exactly the seed's 46 legs", () => {
    expect(allLegs()).toHaveLength(46);
    expect(LEGS.azure.aarch64).toEqual(["9", "9-64k", "10", "10-64k", "10-kitten", "10-kitten-64k"]);
    expect(LEGS.oci.x86_64).toEqual(["8", "9", "10"]);
  });

  it("keeps the variant rules: -v2 only x86_64 on 10/Kitten, -64k only aarch64 azure on 9+", () => {
    for (const leg of allLegs()) {
      const parsed = parseVariant(leg.variant);
      expect(parsed, leg.variant).toBeDefined();
      if (parsed?.suffix === "v2") {
        expect(leg.arch).toBe("x86_64");
        expect(["10", "10-kitten"]).toContain(parsed.version);
      }
      if (parsed?.suffix === "64k") {
        expect(leg.arch).toBe("aarch64");
        expect(leg.type).toBe("azure");
        expect(parsed.version).not.toBe("8");
      }
    }
  });

  it("formats and filesystems", () => {
    expect(IMAGE_TYPE_INFO.azure.format).toBe("raw");
    for (const t of IMAGE_TYPES.filter((t) => t !== "azure")) expect(IMAGE_TYPE_INFO[t].format).toBe("qcow2");
    expect(IMAGE_TYPE_INFO.gencloud_ext4.rootFilesystem).toBe("ext4");
    for (const t of IMAGE_TYPES.filter((t) => t !== "gencloud_ext4")) {
      expect(IMAGE_TYPE_INFO[t].rootFilesystem).toBe("xfs");
    }
  });

  it("workflows: OCI offers no Kitten, gencloud builds both subtypes", () => {
    expect(WORKFLOWS.oci.versions).toEqual(["10", "9", "8"]);
    expect(WORKFLOWS.azure.versions).toEqual(["10-kitten", "10", "9", "8"]);
    expect(WORKFLOWS.gencloud.types).toEqual(["gencloud", "gencloud_ext4"]);
    expect(WORKFLOWS.opennebula.file).toBe("opennebula-build.yml");
  });

  it("parses variants", () => {
    expect(parseVariant("10-kitten-64k")).toEqual({
      variant: "10-kitten-64k",
      version: "10-kitten",
      suffix: "64k",
    });
    expect(parseVariant("9")).toEqual({ variant: "9", version: "9", suffix: undefined });
    for (const bad of ["", "11", "9-v3", "kitten", "10-kitten-v2-64k", "9 "])
      expect(parseVariant(bad)).toBeUndefined();
  });

  it("refuses legs that are not in the catalog, naming the valid variants", () => {
    const cases: [string, string, string][] = [
      ["oci", "10-kitten", "x86_64"],
      ["azure", "10-64k", "x86_64"],
      ["gencloud", "9-64k", "aarch64"],
      ["gencloud", "10-v2", "aarch64"],
      ["opennebula", "9-v2", "x86_64"],
      ["azure", "8", "aarch64"],
    ];
    for (const [type, variant, arch] of cases) {
      expect(legExists({ type: type as never, variant, arch: arch as never })).toBe(false);
      expect(() => requireLeg(type, variant, arch)).toThrow(NotInCatalogError);
      try {
        requireLeg(type, variant, arch);
      } catch (e) {
        expect((e as Error).message).toContain(
          `${type} ${arch} variants: ${LEGS[type as "oci"][arch as "x86_64"].join(", ")}`,
        );
        expect((e as UsageError).exitCode).toBe(2);
      }
    }
    expect(() => requireLeg("vagrant", "9", "x86_64")).toThrow(/unknown image type "vagrant" \(valid: azure/);
    expect(() => requireLeg("azure", "9", "ppc64le")).toThrow(
      /unknown arch "ppc64le" \(valid: x86_64, aarch64\)/,
    );
    expect(() => requireLeg("azure", "7", "x86_64")).toThrow(/unknown variant "7"/);
  });

  it("every arch list exists for every type", () => {
    for (const t of IMAGE_TYPES) for (const a of ARCHES) expect(Array.isArray(LEGS[t][a])).toBe(true);
  });
});
