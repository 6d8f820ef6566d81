/**
 * Software bills of materials for an image's installed packages: CycloneDX 1.6 JSON (built with
 * @cyclonedx/cyclonedx-library) and SPDX 2.3 JSON. Deterministic for the same packages, metadata,
 * time stamp and serial number; the time stamp honours SOURCE_DATE_EPOCH.
 */
import { createHash, randomUUID } from "node:crypto";
import pkg from "../../package.json" with { type: "json" };
import { UsageError } from "../errors.js";
import type { InstalledPackage } from "../rpm/package.js";
import { sortPackages } from "./package-list.js";
import { packagePurl } from "./purl.js";
import { formatEvr } from "./rpmvercmp.js";
import { cyclonedxDocument } from "./sbom-cyclonedx.js";
import { spdxDocument } from "./sbom-spdx.js";

export type SbomFormat = "cyclonedx" | "spdx";
export const SBOM_FORMATS: readonly SbomFormat[] = ["cyclonedx", "spdx"];

export interface SbomMeta {
  /** What the document describes, normally the image file name. */
  readonly name: string;
  /** The point release (os-release VERSION_ID), e.g. `9.6`: the image's version and the purl distro. */
  readonly release?: string | undefined;
  /** os-release ID, the purl namespace and distro prefix; default `almalinux`. */
  readonly distroId?: string | undefined;
  /** os-release PRETTY_NAME, as the image's description. */
  readonly prettyName?: string | undefined;
  /** SHA-256 of the image file, lowercase hex. */
  readonly imageSha256?: string | undefined;
  /** Default: SOURCE_DATE_EPOCH when set, else now. */
  readonly timestamp?: Date | undefined;
  /** A UUID. Default: random, or derived from the content when SOURCE_DATE_EPOCH is set. */
  readonly serialNumber?: string | undefined;
}

/** What both renderers work from: packages in a stable order with their purls, and settled metadata. */
export interface SbomInput {
  readonly packages: readonly {
    readonly pkg: InstalledPackage;
    readonly purl: string;
    readonly evr: string;
  }[];
  readonly name: string;
  readonly release: string | undefined;
  readonly distroId: string;
  readonly prettyName: string | undefined;
  readonly imageSha256: string | undefined;
  readonly timestamp: Date;
  readonly serialNumber: string;
  readonly tool: { readonly name: string; readonly version: string };
}

/** SOURCE_DATE_EPOCH as a date, or undefined when unset; a malformed value is a UsageError. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): Date | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === "") return undefined;
  if (!/^[0-9]{1,12}$/.test(v))
    throw new UsageError(`invalid SOURCE_DATE_EPOCH "${v}" (valid: seconds since 1970-01-01 UTC)`);
  return new Date(Number(v) * 1000);
}

/** A UUID (version 4 layout) from a hash, so the same content and time give the same serial. */
function derivedUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function sbomInput(packages: readonly InstalledPackage[], meta: SbomMeta): SbomInput {
  const distroId = meta.distroId ?? "almalinux";
  const distro = meta.release !== undefined ? `${distroId}-${meta.release}` : undefined;
  const sorted = sortPackages(packages).map((p) => ({
    pkg: p,
    purl: packagePurl(p, { namespace: distroId, distro }),
    evr: formatEvr(p),
  }));
  const epoch = sourceDateEpoch();
  const timestamp = meta.timestamp ?? epoch ?? new Date();
  if (meta.imageSha256 !== undefined && !/^[0-9a-f]{64}$/.test(meta.imageSha256))
    throw new UsageError(`invalid image SHA-256 "${meta.imageSha256}" (valid: 64 lowercase hex digits)`);
  const serialNumber =
    meta.serialNumber ??
    (epoch !== undefined
      ? derivedUuid(JSON.stringify([meta.name, meta.release, timestamp.getTime(), sorted.map((p) => p.purl)]))
      : randomUUID());
  return {
    packages: sorted,
    name: meta.name,
    release: meta.release,
    distroId,
    prettyName: meta.prettyName,
    imageSha256: meta.imageSha256,
    timestamp,
    serialNumber,
    tool: { name: "cloud-images", version: pkg.version },
  };
}

/** The SBOM document (a JSON value) for the packages of an image. */
export function buildSbom(
  packages: readonly InstalledPackage[],
  meta: SbomMeta,
  format: SbomFormat,
): Record<string, unknown> {
  const input = sbomInput(packages, meta);
  switch (format) {
    case "cyclonedx":
      return cyclonedxDocument(input);
    case "spdx":
      return spdxDocument(input);
    default:
      throw new UsageError(`unknown SBOM format "${String(format)}" (valid: ${SBOM_FORMATS.join(", ")})`);
  }
}

/** The document as a file: two-space indented JSON and a final newline. */
export function sbomJson(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
