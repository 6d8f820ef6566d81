/**
 * Stream documents in the Fedora CoreOS stream metadata format (`streams/9.json`, `streams/kitten-10.json`):
 * architectures → artifacts → platform (the image type) → formats → disk {location, sha256, size,
 * signature}. Each names the newest build of every leg of one major version: they are the `latest`
 * pointers, derived from the products document (so both indexes always agree). Pure.
 *
 * Architecture keys: `x86_64`, `x86_64_v2` (-v2 legs), `aarch64`, `aarch64_64k` (-64k legs), so
 * two images of one type never share a slot. `signature` is the URL of the image's Sigstore bundle
 * (its signed provenance) when there is one; `release` is `POINT_RELEASE-STAMP` (9.6-20260220143000).
 */
import { parseVariant } from "../catalog/catalog.js";
import { type Product, type ProductsDocument, versionsNewestFirst } from "./simplestreams.js";

export const STREAM_ITEM_PROVENANCE = "provenance";

export interface StreamArtifact {
  readonly location: string;
  readonly sha256: string;
  readonly size: number;
  readonly signature?: string;
}

export interface StreamDocument {
  readonly stream: string;
  readonly metadata: { readonly "last-modified": string; readonly generator: string };
  readonly architectures: Record<
    string,
    {
      artifacts: Record<string, { release: string; formats: Record<string, { disk: StreamArtifact }> }>;
    }
  >;
}

export function streamKeyOf(streamId: string): string {
  return `streams/${streamId}.json`;
}

/** The architecture key of a product: its alma arch, with `_64k` for 64 KiB-page kernels. */
export function streamArchOf(product: Product): string {
  return parseVariant(product.variant)?.suffix === "64k" ? `${product.alma_arch}_64k` : product.alma_arch;
}

/**
 * The stream document of `streamId` from the products document. `urlFor` turns a store key into the
 * public URL written as `location`/`signature`. Undefined when the stream has no product.
 */
export function streamDocument(
  products: ProductsDocument,
  streamId: string,
  urlFor: (key: string) => string,
  generator: string,
): StreamDocument | undefined {
  const architectures: StreamDocument["architectures"] = {};
  let newest = "";
  const names = Object.keys(products.products).sort();
  for (const name of names) {
    const product = products.products[name]!;
    if (product.release !== streamId) continue;
    const latest = versionsNewestFirst(product)[0];
    if (!latest) continue;
    const [serial, version] = latest;
    const image = Object.values(version.items).find((i) => i.ftype === "qcow2" || i.ftype === "raw");
    if (!image) continue;
    const provenance = version.items[STREAM_ITEM_PROVENANCE];
    const arch = streamArchOf(product);
    architectures[arch] ??= { artifacts: {} };
    const artifacts = architectures[arch].artifacts;
    artifacts[product.image_type] = {
      release: `${version.release}-${serial}`,
      formats: {
        [image.ftype]: {
          disk: {
            location: urlFor(image.path),
            sha256: image.sha256,
            size: image.size,
            ...(provenance ? { signature: urlFor(provenance.path) } : {}),
          },
        },
      },
    };
    if (serial > newest) newest = serial;
  }
  if (Object.keys(architectures).length === 0) return undefined;
  return {
    stream: streamId,
    metadata: { "last-modified": stampToIso(newest), generator },
    architectures: Object.fromEntries(Object.entries(architectures).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** 20260220143000 → 2026-02-20T14:30:00Z: the newest build's time, so the document only changes with its content. */
function stampToIso(stamp: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : new Date(0).toISOString();
}
