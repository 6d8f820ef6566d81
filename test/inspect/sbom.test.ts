// SBOMs validated against the official JSON schemas (CycloneDX 1.6, SPDX 2.3) with ajv; contents
// against Debian's rpm on the same databases; reproducibility with SOURCE_DATE_EPOCH.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { buildSbom } from "../../src/inspect/sbom.js";
import type { InstalledPackage } from "../../src/rpm/package.js";
import { hostRpmdbDir, readRpmdb } from "../../src/rpm/rpmdb/index.js";
import { runCli } from "../helpers/cli.js";
import { image, removeDir, tempDir } from "./images.js";

const SCHEMAS = fileURLToPath(new URL("../data/sbom/", import.meta.url));
const MARINER = fileURLToPath(new URL("../data/rpm/sqlite-cbl-mariner-2.0/", import.meta.url));
const schema = (f: string) => JSON.parse(readFileSync(join(SCHEMAS, f), "utf8"));
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let cyclonedx: ValidateFunction;
let spdx: ValidateFunction;
let tmp: string;
let al9: BuiltImage;
let al8: BuiltImage;

beforeAll(async () => {
  // CycloneDX's `iri-reference` and `idn-email` formats are not in ajv-formats; they are not what is tested.
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: { "iri-reference": true, "idn-email": true },
  });
  addFormats(ajv);
  ajv.addSchema(schema("spdx.SNAPSHOT.schema.json"), "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json");
  ajv.addSchema(
    schema("jsf-0.82.SNAPSHOT.schema.json"),
    "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
  );
  cyclonedx = ajv.compile(schema("bom-1.6.SNAPSHOT.schema.json"));
  spdx = ajv.compile(schema("spdx-2.3.schema.json"));
  tmp = tempDir("sbom");
  [al9, al8] = await Promise.all([image("al9"), image("al8")]);
});

afterAll(() => removeDir(tmp));

function valid(validate: ValidateFunction, doc: unknown): void {
  const ok = validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
  expect(ok).toBe(true);
}

/** rpm -qa fields of an image's database (a copy: rpm may write beside it). */
function rpmFields(
  img: BuiltImage,
): { name: string; epoch: string; version: string; release: string; arch: string; license: string }[] {
  const copy = join(tmp, `db-${Math.random().toString(36).slice(2)}`);
  cpSync(img.rpmdbDir, copy, { recursive: true });
  const backend = img.expected.rpmdbBackend === "bdb" ? ["--define", "_db_backend bdb_ro"] : [];
  const qf = "%{NAME}|%|EPOCH?{%{EPOCH}}:{}||%{VERSION}|%{RELEASE}|%|ARCH?{%{ARCH}}:{}||%{LICENSE}\\n";
  const out = execFileSync("rpm", ["--dbpath", copy, ...backend, "-qa", "--qf", qf], { encoding: "utf8" });
  removeDir(copy);
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name, epoch, version, release, arch, license] = l.split("|") as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      return { name, epoch, version, release, arch, license };
    });
}

/** Reads a purl back with nothing but the URL parser: name, version and qualifiers. */
function parsePurl(purl: string): {
  namespace: string;
  name: string;
  version: string;
  q: Record<string, string>;
} {
  const m = /^pkg:rpm\/([^/]+)\/([^@]+)@([^?]+)(?:\?(.*))?$/.exec(purl)!;
  return {
    namespace: decodeURIComponent(m[1]!),
    name: decodeURIComponent(m[2]!),
    version: decodeURIComponent(m[3]!),
    q: Object.fromEntries(new URLSearchParams(m[4] ?? "")),
  };
}

describe("sbom IMAGE", () => {
  it.each(["qcow2", "qcow2-zlib"] as const)(
    "CycloneDX from an AL9 %s: valid, one component per rpm header",
    async (format) => {
      const r = await runCli(["sbom", al9.paths[format]!, "--format", "cyclonedx"], {
        env: { SOURCE_DATE_EPOCH: "1771597800" },
      });
      expect(r.code).toBe(0);
      const bom = JSON.parse(r.stdout);
      valid(cyclonedx, bom);
      expect(bom).toMatchObject({
        bomFormat: "CycloneDX",
        specVersion: "1.6",
        metadata: {
          timestamp: "2026-02-20T14:30:00.000Z",
          tools: { components: [{ type: "application", name: "cloud-images" }] },
          component: {
            type: "operating-system",
            name: format === "qcow2" ? "disk.qcow2" : "disk-zlib.qcow2",
            version: "9.6",
          },
        },
      });
      const oracle = rpmFields(al9);
      expect(bom.components).toHaveLength(oracle.length);
      const byName = new Map(oracle.map((o) => [o.name, o]));
      for (const c of bom.components) {
        const rpm = byName.get(c.name)!;
        const p = parsePurl(c.purl);
        expect(p).toEqual({
          namespace: "almalinux",
          name: rpm.name,
          version: `${rpm.version}-${rpm.release}`,
          q: {
            ...(rpm.arch !== "" ? { arch: rpm.arch } : {}),
            distro: "almalinux-9.6",
            ...(rpm.epoch !== "" ? { epoch: rpm.epoch } : {}),
          },
        });
        expect(c.version).toBe(`${rpm.epoch !== "" ? `${rpm.epoch}:` : ""}${rpm.version}-${rpm.release}`);
        expect(c["bom-ref"]).toBe(c.purl);
        // the supplier is the header's VENDOR, which the imported key's header lacks
        expect(c.supplier).toEqual(rpm.name === "gpg-pubkey" ? undefined : { name: "AlmaLinux" });
        // imagegen's packages carry single SPDX ids; the imported key's header says "pubkey"
        const license = rpm.name === "gpg-pubkey" ? { name: "pubkey" } : { id: rpm.license };
        expect(c.licenses).toEqual([{ license }]);
      }
      expect(bom.dependencies.find((d: { ref: string }) => d.ref === "image").dependsOn).toHaveLength(
        oracle.length,
      );
    },
  );

  it("SPDX 2.3 from an AL8 (Berkeley DB) image: valid, the image CONTAINS every package", async () => {
    const r = await runCli(["sbom", al8.paths["qcow2-zlib"]!, "--format", "spdx"], {
      env: { SOURCE_DATE_EPOCH: "1771597800" },
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    valid(spdx, doc);
    const oracle = rpmFields(al8);
    expect(doc.packages).toHaveLength(oracle.length + 1);
    expect(doc.creationInfo.created).toBe("2026-02-20T14:30:00Z");
    const [img, ...pkgs] = doc.packages;
    expect(img).toMatchObject({
      SPDXID: "SPDXRef-Image",
      name: "disk-zlib.qcow2",
      versionInfo: "8.10",
      primaryPackagePurpose: "OPERATING_SYSTEM",
    });
    const contains = doc.relationships.filter(
      (x: { relationshipType: string }) => x.relationshipType === "CONTAINS",
    );
    expect(contains.map((x: { relatedSpdxElement: string }) => x.relatedSpdxElement).sort()).toEqual(
      pkgs.map((p: { SPDXID: string }) => p.SPDXID).sort(),
    );
    expect(new Set(pkgs.map((p: { SPDXID: string }) => p.SPDXID)).size).toBe(pkgs.length);
    const purls = pkgs.map((p: { externalRefs: { referenceLocator: string }[] }) =>
      parsePurl(p.externalRefs[0]!.referenceLocator),
    );
    expect(purls.map((p: { name: string }) => p.name).sort()).toEqual(oracle.map((o) => o.name).sort());
    expect(purls.every((p: { q: Record<string, string> }) => p.q.distro === "almalinux-8.10")).toBe(true);
  });

  it("is reproducible with SOURCE_DATE_EPOCH, and has a fresh serial without it", async () => {
    const env = { SOURCE_DATE_EPOCH: "1771597800" };
    for (const format of ["cyclonedx", "spdx"]) {
      const a = await runCli(["sbom", al9.paths.qcow2!, "--format", format], { env });
      const b = await runCli(["sbom", al9.paths.qcow2!, "--format", format], { env });
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
    }
    const x = JSON.parse((await runCli(["sbom", al9.paths.qcow2!])).stdout);
    const y = JSON.parse((await runCli(["sbom", al9.paths.qcow2!])).stdout);
    expect(x.serialNumber).not.toBe(y.serialNumber);
    expect(x.serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("--hash adds the image's SHA-256 (as sha256sum computes it); --out writes the file", async () => {
    const out = join(tmp, "image.spdx.json");
    const r = await runCli(["sbom", al9.paths.qcow2!, "--format", "spdx", "--hash", "--out", out]);
    expect(r).toMatchObject({ code: 0, stdout: "" });
    const doc = JSON.parse(readFileSync(out, "utf8"));
    valid(spdx, doc);
    const sum = execFileSync("sha256sum", [al9.paths.qcow2!], { encoding: "utf8" }).split(" ")[0];
    expect(doc.packages[0].checksums).toEqual([{ algorithm: "SHA256", checksumValue: sum }]);
    const cdx = JSON.parse((await runCli(["sbom", al9.paths.qcow2!, "--hash"])).stdout);
    valid(cyclonedx, cdx);
    expect(cdx.metadata.component.hashes).toEqual([{ alg: "SHA-256", content: sum }]);
  });

  it("bad input: a malformed SOURCE_DATE_EPOCH or format is exit 2, nothing written", async () => {
    const r = await runCli(["sbom", al9.paths.qcow2!], { env: { SOURCE_DATE_EPOCH: "yesterday" } });
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe(
      'cloud-images: error: invalid SOURCE_DATE_EPOCH "yesterday" (valid: seconds since 1970-01-01 UTC)\n',
    );
    expect((await runCli(["sbom", al9.paths.qcow2!, "--format", "swid"])).code).toBe(2);
  });
});

describe("buildSbom on a real database (CBL-Mariner 2.0, 129 packages)", () => {
  let packages: InstalledPackage[];
  beforeAll(async () => {
    packages = (await readRpmdb(hostRpmdbDir(MARINER))).packages;
  });
  const meta = {
    name: "mariner.img",
    release: "2.0",
    distroId: "mariner",
    timestamp: new Date(0),
    serialNumber: "00000000-0000-4000-8000-000000000000",
  };

  it("both formats validate; real license strings become ids, expressions or named licenses", () => {
    const bom = buildSbom(packages, meta, "cyclonedx") as {
      components: { name: string; licenses?: unknown[] }[];
    };
    valid(cyclonedx, bom);
    expect(bom.components).toHaveLength(129);
    const doc = buildSbom(packages, meta, "spdx") as {
      packages: { name: string; licenseDeclared: string }[];
      hasExtractedLicensingInfos?: { licenseId: string; extractedText: string }[];
    };
    valid(spdx, doc);
    // every LicenseRef used is declared, with the rpm License text
    const declared = new Map(
      (doc.hasExtractedLicensingInfos ?? []).map((e) => [e.licenseId, e.extractedText]),
    );
    for (const p of doc.packages.slice(1)) {
      const raw = packages.find((q) => q.name === p.name)!.license;
      if (p.licenseDeclared.startsWith("LicenseRef-")) expect(declared.get(p.licenseDeclared)).toBe(raw);
      else expect(p.licenseDeclared).toBe(raw);
    }
    // Mariner 2.0 mixes SPDX ids (MIT, ISC…) with Fedora's old names (GPLv2+, BSD…): ids stay ids, the rest named
    const licenses = bom.components.flatMap(
      (c) => (c.licenses ?? []) as { license: { id?: string; name?: string } }[],
    );
    const ids = licenses.filter((l) => l.license.id).map((l) => l.license.id);
    const names = licenses.filter((l) => l.license.name).map((l) => l.license.name);
    expect(ids).toContain("MIT");
    expect(names).toContain("GPLv2+");
    expect(ids.length + names.length).toBe(129);
  });

  it("is the same document for the same input, whatever the package order", () => {
    const a = JSON.stringify(buildSbom(packages, meta, "cyclonedx"));
    const b = JSON.stringify(buildSbom([...packages].reverse(), meta, "cyclonedx"));
    expect(b).toBe(a);
    expect(JSON.stringify(buildSbom([...packages].reverse(), meta, "spdx"))).toBe(
      JSON.stringify(buildSbom(packages, meta, "spdx")),
    );
  });

  it("gpg-pubkey (no arch) and epochs come out as the purl spec says", () => {
    const key: InstalledPackage = {
      ...packages[0]!,
      name: "gpg-pubkey",
      epoch: null,
      version: "b86b3716",
      release: "61e69f29",
      arch: null,
      license: "pubkey",
    };
    const withEpoch: InstalledPackage = {
      ...packages[0]!,
      name: "shadow-utils",
      epoch: 2,
      version: "4.9",
      release: "12.el9",
      arch: "x86_64",
    };
    const bom = buildSbom(
      [key, withEpoch],
      { ...meta, distroId: "almalinux", release: "9.6" },
      "cyclonedx",
    ) as { components: { name: string; purl: string }[] };
    valid(cyclonedx, bom);
    expect(Object.fromEntries(bom.components.map((c) => [c.name, c.purl]))).toEqual({
      "gpg-pubkey": "pkg:rpm/almalinux/gpg-pubkey@b86b3716-61e69f29?distro=almalinux-9.6",
      "shadow-utils": "pkg:rpm/almalinux/shadow-utils@4.9-12.el9?arch=x86_64&distro=almalinux-9.6&epoch=2",
    });
    valid(spdx, buildSbom([key, withEpoch], meta, "spdx"));
  });
});

it("the schemas can reject: a document without its required fields fails both", () => {
  expect(cyclonedx({ bomFormat: "CycloneDX" })).toBe(false);
  expect(spdx({ spdxVersion: "SPDX-2.3", packages: [{ name: "x" }] })).toBe(false);
});
