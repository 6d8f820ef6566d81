/** SPDX 2.3 JSON: the image as the described package, CONTAINS one package per installed rpm. */
import type { SbomInput } from "./sbom.js";
import { classifyLicense } from "./spdx-license.js";

const NOASSERTION = "NOASSERTION";

/** SPDX element ids allow letters, digits, `.` and `-`. */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, "-");
}

/** `2026-02-20T14:30:00Z`: SPDX wants UTC to the second. */
function spdxTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function spdxDocument(input: SbomInput): Record<string, unknown> {
  const extracted = new Map<string, string>(); // raw license text → LicenseRef id
  const licenseRef = (raw: string) => {
    let id = extracted.get(raw);
    if (!id) {
      const base = `LicenseRef-${
        idPart(raw)
          .replace(/^-+|-+$/g, "")
          .slice(0, 60) || "rpm"
      }`;
      const taken = new Set(extracted.values());
      id = base;
      for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
      extracted.set(raw, id);
    }
    return id;
  };
  const declared = (raw: string) => {
    const c = classifyLicense(raw);
    if (c.kind === "id") return c.id;
    if (c.kind === "expression") return c.expression;
    if (c.kind === "other") return licenseRef(c.text);
    return NOASSERTION;
  };

  const imageId = "SPDXRef-Image";
  const image: Record<string, unknown> = {
    SPDXID: imageId,
    name: input.name,
    ...(input.release !== undefined ? { versionInfo: input.release } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    primaryPackagePurpose: "OPERATING_SYSTEM",
    ...(input.imageSha256 !== undefined
      ? { checksums: [{ algorithm: "SHA256", checksumValue: input.imageSha256 }] }
      : {}),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    ...(input.prettyName !== undefined ? { description: input.prettyName } : {}),
  };

  const ids = new Set<string>([imageId]);
  const packages = input.packages.map(({ pkg: p, purl, evr }) => {
    const base = `SPDXRef-RPM-${idPart(p.name)}-${idPart(evr)}${p.arch !== null ? `.${idPart(p.arch)}` : ""}`;
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    return {
      SPDXID: id,
      name: p.name,
      versionInfo: evr,
      supplier: p.vendor ? `Organization: ${p.vendor}` : NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      ...(p.sourceRpm !== null ? { sourceInfo: `built from the source package ${p.sourceRpm}` } : {}),
      licenseConcluded: NOASSERTION,
      licenseDeclared: declared(p.license),
      copyrightText: NOASSERTION,
      ...(p.summary !== "" ? { summary: p.summary } : {}),
      externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: purl }],
    };
  });

  const uri = `https://almalinux.org/spdxdocs/cloud-images/${encodeURIComponent(input.name)}-${input.serialNumber}`;
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: input.name,
    documentNamespace: uri,
    creationInfo: {
      created: spdxTime(input.timestamp),
      creators: [`Tool: ${input.tool.name}-${input.tool.version}`],
    },
    packages: [image, ...packages],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: imageId },
      ...packages.map((p) => ({
        spdxElementId: imageId,
        relationshipType: "CONTAINS",
        relatedSpdxElement: p.SPDXID,
      })),
    ],
    ...(extracted.size > 0
      ? {
          hasExtractedLicensingInfos: [...extracted].map(([text, licenseId]) => ({
            licenseId,
            extractedText: text,
            name: text,
          })),
        }
      : {}),
  };
}
