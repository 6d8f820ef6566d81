/**
 * What changed since the previous release of a leg: the newest build of the same leg (type, variant,
 * arch) that the store's index lists with an earlier stamp, its package list (with versions from its
 * SBOM when it has one) and its image size, against this build's.
 */
import { readFile } from "node:fs/promises";
import {
  diffPackages,
  type ListedPackage,
  type PackageDiff,
  parsePackageNames,
} from "../inspect/package-diff.js";
import { packagesFromCycloneDx } from "../inspect/sbom-read.js";
import type { LegManifest } from "../manifest/manifest.js";
import type { ObjectStore } from "../publish/types.js";
import {
  PRODUCTS_KEY,
  parseProducts,
  productNameOf,
  type StreamItem,
  versionsNewestFirst,
} from "./simplestreams.js";

export interface PreviousBuild {
  readonly timeStamp: string;
  readonly release: string;
  readonly items: Readonly<Record<string, StreamItem>>;
}

export interface ChangesSincePrevious {
  readonly previous: {
    readonly timeStamp: string;
    readonly release: string;
    readonly imageSize?: number | undefined;
  };
  readonly imageSize?: number | undefined;
  /** Versions compared when both sides have SBOMs (else names only). */
  readonly packages: PackageDiff;
}

/** The leg's newest indexed build older than `timeStamp`, or undefined (no index, no earlier build). */
export async function findPreviousBuild(
  store: ObjectStore,
  leg: LegManifest["leg"],
  timeStamp: string,
): Promise<PreviousBuild | undefined> {
  const raw = await store.get(PRODUCTS_KEY);
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
  const products = parseProducts(json);
  if (typeof products === "string") return undefined;
  const product = products.products[productNameOf(leg)];
  if (!product) return undefined;
  const found = versionsNewestFirst(product).find(([stamp]) => stamp < timeStamp);
  return found ? { timeStamp: found[0], release: found[1].release, items: found[1].items } : undefined;
}

async function packagesOf(
  store: ObjectStore,
  items: Readonly<Record<string, StreamItem>>,
): Promise<ListedPackage[] | undefined> {
  const sbom = items.sbom;
  if (sbom?.ftype === "cdx.json") {
    const data = await store.get(sbom.path);
    if (data) return packagesFromCycloneDx(JSON.parse(data.toString("utf8")), sbom.path);
  }
  const names = items.packages;
  if (names) {
    const data = await store.get(names.path);
    if (data) return parsePackageNames(data.toString("utf8")).map((name) => ({ name }));
  }
  return undefined;
}

/**
 * The changes since the previous indexed build of the manifest's leg; `current` is this build's package
 * list (with versions when it came from its SBOM). Undefined when there is no earlier build, or it has
 * no package list in the store.
 */
export async function changesSincePrevious(
  store: ObjectStore,
  manifest: LegManifest,
  current: readonly ListedPackage[],
): Promise<ChangesSincePrevious | undefined> {
  const previous = await findPreviousBuild(store, manifest.leg, manifest.timeStamp);
  if (!previous) return undefined;
  const before = await packagesOf(store, previous.items);
  if (!before) return undefined;
  const image = previous.items[manifest.resolved.imageFormat];
  // Versions are compared only when both sides have them; else both are reduced to names.
  const versioned = (list: readonly ListedPackage[]) =>
    list.length > 0 && list.every((p) => p.version !== undefined);
  const both = versioned(before) && versioned(current);
  const names = (list: readonly ListedPackage[]) => list.map((p) => ({ name: p.name }));
  return {
    previous: { timeStamp: previous.timeStamp, release: previous.release, imageSize: image?.size },
    imageSize: manifest.image?.size,
    packages: both ? diffPackages(before, current) : diffPackages(names(before), names(current)),
  };
}

/** This build's package list from its local files: the SBOM (with versions) or the name list. */
export async function localPackages(files: {
  readonly sbom?: string | undefined;
  readonly packages?: string | undefined;
}): Promise<ListedPackage[] | undefined> {
  if (files.sbom?.endsWith(".cdx.json")) {
    try {
      return packagesFromCycloneDx(JSON.parse(await readFile(files.sbom, "utf8")), files.sbom);
    } catch {
      // unreadable: fall back to the name list
    }
  }
  if (files.packages) {
    try {
      return parsePackageNames(await readFile(files.packages, "utf8")).map((name) => ({ name }));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** This build's package list as published (its SBOM, else its name list), when the local files are gone. */
export async function publishedPackages(
  store: ObjectStore,
  manifest: LegManifest,
): Promise<ListedPackage[] | undefined> {
  const items: Record<string, StreamItem> = {};
  for (const o of manifest.published?.objects ?? []) {
    if (o.role === "sbom" && o.name.endsWith(".cdx.json"))
      items.sbom = { ftype: "cdx.json", path: o.key, size: o.size, sha256: o.sha256 };
    if (o.role === "packages")
      items.packages = { ftype: "packages.txt", path: o.key, size: o.size, sha256: o.sha256 };
  }
  return packagesOf(store, items);
}
