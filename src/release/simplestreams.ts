/**
 * Simplestreams v1 (the format LXD, Incus and OpenStack's image sync tools read): an index
 * (`streams/v1/index.json`, format `index:1.0`) naming one products file
 * (`streams/v1/com.almalinux.cloud:released:download.json`, format `products:1.0`, datatype
 * `image-downloads`). One product per leg (`com.almalinux.cloud:TYPE:VARIANT:ARCH`), one version per
 * build (its UTC stamp), one item per published file (`ftype`, `path` relative to the store root,
 * `size`, `sha256`). Pure: documents in, documents out. The products file keeps every build; the
 * index and the stream documents point at the newest.
 */
import { z } from "zod";
import { parseVariant } from "../catalog/catalog.js";

export const CONTENT_ID = "com.almalinux.cloud:released:download";
export const INDEX_KEY = "streams/v1/index.json";
export const PRODUCTS_KEY = `streams/v1/${CONTENT_ID}.json`;

const itemSchema = z.object({
  ftype: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StreamItem = z.infer<typeof itemSchema>;

const versionSchema = z.looseObject({
  label: z.string().optional(),
  pubname: z.string().optional(),
  /** The point release, e.g. 9.6. */
  release: z.string(),
  items: z.record(z.string(), itemSchema),
});
export type ProductVersion = z.infer<typeof versionSchema>;

const productSchema = z.looseObject({
  os: z.string(),
  arch: z.string(),
  alma_arch: z.string(),
  /** The stream: 8, 9, 10 or kitten-10. */
  release: z.string(),
  release_title: z.string(),
  version: z.string(),
  image_type: z.string(),
  variant: z.string(),
  versions: z.record(z.string(), versionSchema),
});
export type Product = z.infer<typeof productSchema>;

export const productsSchema = z.looseObject({
  content_id: z.literal(CONTENT_ID),
  datatype: z.literal("image-downloads"),
  format: z.literal("products:1.0"),
  updated: z.string(),
  products: z.record(z.string(), productSchema),
});
export type ProductsDocument = z.infer<typeof productsSchema>;

export interface IndexDocument {
  readonly format: "index:1.0";
  readonly updated: string;
  readonly index: Record<
    string,
    {
      readonly datatype: "image-downloads";
      readonly format: "products:1.0";
      readonly path: string;
      readonly updated: string;
      readonly products: string[];
    }
  >;
}

/** One published build of one leg, as the index records it. */
export interface IndexedBuild {
  readonly leg: { readonly type: string; readonly variant: string; readonly arch: string };
  readonly almaArch: string;
  /** The catalog's major version: 8, 9, 10, 10-kitten. */
  readonly versionMajor: string;
  readonly release: string;
  readonly timeStamp: string;
  readonly imageFormat: string;
  /** The image's file name. */
  readonly imageName: string;
  /** Item name → item; the image's item is named after its format (`qcow2`, `raw`). */
  readonly items: Readonly<Record<string, StreamItem>>;
}

/** `9`, `10`, `8`, or `kitten-10`: the stream document's name. */
export function streamIdOf(versionMajor: string): string {
  return versionMajor === "10-kitten" ? "kitten-10" : versionMajor;
}

export function productNameOf(leg: IndexedBuild["leg"]): string {
  return `com.almalinux.cloud:${leg.type}:${leg.variant}:${leg.arch}`;
}

/** Dates as simplestreams writes them: RFC 2822 in UTC. */
export function simplestreamsDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Adds (or replaces) the builds' versions in the products document. */
export function mergeProducts(
  existing: ProductsDocument | undefined,
  builds: readonly IndexedBuild[],
  now: Date,
): ProductsDocument {
  const products: Record<string, Product> = { ...(existing?.products ?? {}) };
  for (const b of builds) {
    const name = productNameOf(b.leg);
    const stream = streamIdOf(b.versionMajor);
    const previous = products[name];
    const kitten = b.versionMajor === "10-kitten";
    const version: ProductVersion = {
      label: "release",
      pubname: b.imageName.replace(/\.(qcow2|raw)$/, ""),
      release: b.release,
      items: sortedRecord(b.items),
    };
    products[name] = {
      ...(previous ?? {}),
      os: "almalinux",
      arch: b.leg.arch,
      alma_arch: b.almaArch,
      release: stream,
      release_title: kitten ? "AlmaLinux Kitten 10" : `AlmaLinux ${b.versionMajor}`,
      version: kitten ? "10" : b.versionMajor,
      image_type: b.leg.type,
      variant: b.leg.variant,
      ...(parseVariant(b.leg.variant)?.suffix === "64k" ? { kernel_page_size: "64k" } : {}),
      versions: sortedRecord({ ...(previous?.versions ?? {}), [b.timeStamp]: version }),
    };
  }
  return {
    ...(existing ?? {}),
    content_id: CONTENT_ID,
    datatype: "image-downloads",
    format: "products:1.0",
    updated: simplestreamsDate(now),
    products: sortedRecord(products),
  };
}

export function indexDocument(products: ProductsDocument): IndexDocument {
  return {
    format: "index:1.0",
    updated: products.updated,
    index: {
      [CONTENT_ID]: {
        datatype: "image-downloads",
        format: "products:1.0",
        path: PRODUCTS_KEY,
        updated: products.updated,
        products: Object.keys(products.products).sort(),
      },
    },
  };
}

/** The products document read back from a store; a one-line reason when it is not one. */
export function parseProducts(json: unknown): ProductsDocument | string {
  const parsed = productsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join(".") || "(top level)"}: ${issue.message}`;
}

/** A product's builds, newest first (versions are UTC stamps, so string order is time order). */
export function versionsNewestFirst(product: Product): [string, ProductVersion][] {
  return Object.entries(product.versions).sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
}
