/** CycloneDX 1.6 JSON, built and normalised (lists sorted) by @cyclonedx/cyclonedx-library. */
import type { Models } from "@cyclonedx/cyclonedx-library";
import type { InstalledPackage } from "../rpm/package.js";
import { cyclonedxLibrary } from "./cyclonedx-lib.js";
import type { SbomInput } from "./sbom.js";
import { classifyLicense } from "./spdx-license.js";

/** Property names for rpm facts that CycloneDX has no field for. */
const PROP = "cloud-images:rpm:";

function license(raw: string): Models.License | undefined {
  const { Models } = cyclonedxLibrary();
  const c = classifyLicense(raw);
  switch (c.kind) {
    case "id":
      return new Models.SpdxLicense(c.id);
    case "expression":
      return new Models.LicenseExpression(c.expression);
    case "other":
      return new Models.NamedLicense(c.text);
    case "none":
      return undefined;
  }
}

function rpmProperties(p: InstalledPackage): Models.Property[] {
  const { Models } = cyclonedxLibrary();
  const props: [string, string | number | null][] = [
    ["sourceRpm", p.sourceRpm],
    ["size", p.size],
    ["installTime", p.installTime === null ? null : new Date(p.installTime * 1000).toISOString()],
    ["sigmd5", p.sigmd5],
    ["sha256header", p.sha256header],
    ["sha1header", p.sha1header],
    ["payloadDigest", p.payloadDigest],
    ["signature", p.signature?.text ?? null],
  ];
  return props
    .filter((e): e is [string, string | number] => e[1] !== null)
    .map(([k, v]) => new Models.Property(`${PROP}${k}`, String(v)));
}

export function cyclonedxDocument(input: SbomInput): Record<string, unknown> {
  const { Enums, Models, Serialize, Spec } = cyclonedxLibrary();
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${input.serialNumber}` });
  bom.metadata.timestamp = input.timestamp;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, input.tool.name, { version: input.tool.version }),
  );
  const image = new Models.Component(Enums.ComponentType.OperatingSystem, input.name, {
    bomRef: "image",
    ...(input.release !== undefined ? { version: input.release } : {}),
    ...(input.prettyName !== undefined ? { description: input.prettyName } : {}),
  });
  if (input.imageSha256 !== undefined) image.hashes.set(Enums.HashAlgorithm["SHA-256"], input.imageSha256);
  bom.metadata.component = image;

  const refs = new Set<string>();
  for (const { pkg: p, purl, evr } of input.packages) {
    let ref = purl;
    for (let n = 2; refs.has(ref); n++) ref = `${purl}#${n}`;
    refs.add(ref);
    const component = new Models.Component(Enums.ComponentType.Library, p.name, {
      bomRef: ref,
      version: evr,
      purl,
      ...(p.summary !== "" ? { description: p.summary } : {}),
      ...(p.vendor
        ? { supplier: new Models.OrganizationalEntity({ name: p.vendor }), publisher: p.vendor }
        : {}),
    });
    const l = license(p.license);
    if (l) component.licenses.add(l);
    for (const prop of rpmProperties(p)) component.properties.add(prop);
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
  }
  const normalizer = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6).makeForBom();
  return normalizer.normalize(bom, { sortLists: true }) as unknown as Record<string, unknown>;
}
