/**
 * Releasing the published legs of a run: per image two Sigstore bundles (SLSA provenance, test
 * results), per folder a CHECKSUM and its detached OpenPGP signature CHECKSUM.asc, then the index
 * (simplestreams products, the stream documents, the simplestreams index).
 *
 * Everything is computed and signed in memory first (a bad key or passphrase writes nothing), then
 * written new-object-first: bundles, CHECKSUM, CHECKSUM.asc, products, the stream documents, and last
 * streams/v1/index.json, so a reader never finds an index naming an object that is not there yet. When
 * a write fails, what was written is rolled back (previous contents restored, new objects deleted).
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ReleaseError, UsageError } from "../errors.js";
import { publishFiles } from "../publish/publish.js";
import type { PublishedObject } from "../publish/published-object.js";
import type { ObjectStore, Tags } from "../publish/types.js";
import { encodeKey } from "../publish/url.js";
import { quoted } from "../publish/validate.js";
import { type Attester, attest } from "./attest.js";
import { type ChecksumEntry, formatChecksumFile, parseChecksumFile } from "./checksum-file.js";
import { legName, type ManifestFile, type ReleasedLeg, type SkippedLeg, selectLegs } from "./legs.js";
import { type SigningKey, signDetached } from "./openpgp.js";
import {
  INDEX_KEY,
  type IndexedBuild,
  indexDocument,
  mergeProducts,
  PRODUCTS_KEY,
  type ProductsDocument,
  parseProducts,
  type StreamItem,
  streamIdOf,
} from "./simplestreams.js";
import { provenanceStatement, testResultStatement } from "./statements.js";
import { STREAM_ITEM_PROVENANCE, streamDocument, streamKeyOf } from "./stream.js";

export const CHECKSUM_NAME = "CHECKSUM";
export const SIGNATURE_NAME = "CHECKSUM.asc";

/** The two bundles beside each image. */
export const bundleNames = {
  provenance: (image: string) => `${image}.sigstore.json`,
  tests: (image: string) => `${image}.test-result.sigstore.json`,
} as const;

export interface ReleaseOptions {
  readonly manifests: readonly ManifestFile[];
  readonly store: ObjectStore;
  /** Signs CHECKSUM; without it CHECKSUM is written unsigned. */
  readonly openpgp?: SigningKey | undefined;
  /** Signs the provenance and test-result statements; without it no bundles are written. */
  readonly attester?: Attester | undefined;
  /** Tags of every object written (default public=yes, like the images). */
  readonly tags?: Tags | undefined;
  /** Write the index documents (default true). */
  readonly index?: boolean | undefined;
  /** Base of the URLs the stream documents give (default: the store's own URLs). */
  readonly publicBaseUrl?: string | undefined;
  /** `metadata.generator` of the stream documents. */
  readonly generator: string;
  readonly now?: Date | undefined;
  readonly log?: ((line: string) => void) | undefined;
  readonly warn?: ((line: string) => void) | undefined;
  /**
   * Stops the release between two writes (and aborts an upload in progress); what was written is
   * rolled back, as after a failed write (Ctrl-C, SIGTERM).
   */
  readonly signal?: AbortSignal | undefined;
}

export interface ReleaseFolder {
  readonly prefix: string;
  readonly checksumKey: string;
  readonly signatureKey?: string | undefined;
  /** Fingerprint of the OpenPGP key that signed CHECKSUM. */
  readonly signedBy?: string | undefined;
  readonly files: readonly ChecksumEntry[];
}

export interface ReleaseResult {
  readonly store: string;
  readonly legs: readonly { path: string; leg: string; image: string; bundles: readonly string[] }[];
  readonly skipped: readonly SkippedLeg[];
  readonly folders: readonly ReleaseFolder[];
  /** Index documents written (empty without --index). */
  readonly index: readonly string[];
  /** Every object written (or removed), in order, and whether an identical one was already there. */
  readonly written: readonly { key: string; status: "uploaded" | "skipped" | "deleted" }[];
}

interface PlannedObject {
  readonly key: string;
  /** Undefined: the object is removed (a signature that no longer matches). */
  readonly data: Buffer | undefined;
}

const DEFAULT_TAGS: Tags = { public: "yes" };

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

function prefixOf(key: string): string {
  const slash = key.lastIndexOf("/");
  return slash < 0 ? "" : key.slice(0, slash);
}

export async function releaseLegs(options: ReleaseOptions): Promise<ReleaseResult> {
  const { store } = options;
  const log = options.log ?? (() => {});
  const warn = options.warn ?? (() => {});
  const { legs, skipped } = selectLegs(options.manifests);
  for (const s of skipped) log(`not released: ${s.leg} (${s.path}): ${s.reason}`);
  if (legs.length === 0) {
    const why = skipped.length > 0 ? `: ${skipped.map((s) => `${s.leg} ${s.reason}`).join("; ")}` : "";
    throw new UsageError(
      `no published leg that passed its tests among ${options.manifests.length} manifest(s)${why}`,
    );
  }
  checkOneStore(legs, store);
  checkDistinctImages(legs);
  await store.check();
  await checkObjectsInStore(legs, store);

  // Everything is made (and signed) before the first write.
  const bundles: PlannedObject[] = [];
  const bundleObjects = new Map<ReleasedLeg, { provenance?: PublishedObject; tests?: PublishedObject }>();
  for (const leg of legs) {
    if (!options.attester) break;
    const subject = { name: leg.image.name, sha256: leg.image.sha256 };
    log(`attesting ${leg.image.name}`);
    const made: { provenance?: PublishedObject; tests?: PublishedObject } = {};
    for (const [which, statement] of [
      ["provenance", provenanceStatement(leg.manifest, subject)],
      ["tests", testResultStatement(leg.manifest, subject)],
    ] as const) {
      const data = json(await attestOrFail(statement, options.attester, leg.image.name));
      const name = bundleNames[which](leg.image.name);
      const key = leg.prefix === "" ? name : `${leg.prefix}/${name}`;
      bundles.push({ key, data });
      made[which] = { role: "other", name, key, size: data.length, sha256: sha256(data) };
    }
    bundleObjects.set(leg, made);
  }

  const folders: ReleaseFolder[] = [];
  const signatures: PlannedObject[] = [];
  for (const [prefix, inFolder] of groupBy(legs, (l) => l.prefix)) {
    const own = ownObjects(inFolder, bundleObjects, prefix);
    const entries = new Map<string, ChecksumEntry>(
      own.map((o) => [o.name, { name: o.name, sha256: o.sha256, size: o.size }]),
    );
    const checksumKey = prefix === "" ? CHECKSUM_NAME : `${prefix}/${CHECKSUM_NAME}`;
    const previous = await store.get(checksumKey);
    if (previous) keepListedObjects(previous, checksumKey, entries, warn);
    await dropUnconfirmed(store, prefix, entries, new Set(own.map((o) => o.name)), checksumKey, warn);
    const text = Buffer.from(formatChecksumFile([...entries.values()]));
    let signatureKey: string | undefined;
    if (options.openpgp) {
      signatureKey = `${checksumKey}.asc`;
      signatures.push({ key: checksumKey, data: text });
      signatures.push({ key: signatureKey, data: Buffer.from(await signDetached(text, options.openpgp)) });
    } else {
      // An earlier signature of another CHECKSUM would no longer match: it goes first.
      if (previous && !previous.equals(text) && (await store.head(`${checksumKey}.asc`))) {
        signatures.push({ key: `${checksumKey}.asc`, data: undefined });
      }
      signatures.push({ key: checksumKey, data: text });
    }
    folders.push({
      prefix,
      checksumKey,
      signatureKey,
      signedBy: options.openpgp?.fingerprint,
      files: parseChecksumFile(text.toString("utf8")),
    });
  }

  const index: PlannedObject[] = [];
  if (options.index !== false) {
    index.push(...(await indexObjects(options, legs, bundleObjects)));
  }

  const plan = [...bundles, ...signatures, ...index];
  const written = await writeInOrder(store, plan, options.tags ?? DEFAULT_TAGS, log, options.signal);
  return {
    store: store.url,
    legs: legs.map((l) => {
      const made = bundleObjects.get(l);
      return {
        path: l.path,
        leg: legName(l.manifest),
        image: l.image.key,
        bundles: [made?.provenance?.key, made?.tests?.key].filter((k): k is string => k !== undefined),
      };
    }),
    skipped,
    folders,
    index: index.map((o) => o.key),
    written,
  };
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = m.get(k);
    if (group) group.push(item);
    else m.set(k, [item]);
  }
  return m;
}

function checkOneStore(legs: readonly ReleasedLeg[], store: ObjectStore): void {
  for (const leg of legs) {
    if (leg.manifest.published!.store !== store.url) {
      throw new UsageError(
        `${leg.path} records its leg as published to ${leg.manifest.published!.store}, not to ${store.url} (give that store with --store)`,
      );
    }
  }
}

function checkDistinctImages(legs: readonly ReleasedLeg[]): void {
  const seen = new Map<string, ReleasedLeg>();
  for (const leg of legs) {
    const other = seen.get(leg.image.key);
    if (other && other.image.sha256 !== leg.image.sha256) {
      throw new UsageError(
        `${leg.path} and ${other.path} both publish ${leg.image.key} with different contents: give the manifests of one run`,
      );
    }
    seen.set(leg.image.key, leg);
  }
}

/** What is indexed or listed must be in the store, with the size (and SHA-256, when recorded) the manifest says. */
async function checkObjectsInStore(legs: readonly ReleasedLeg[], store: ObjectStore): Promise<void> {
  for (const leg of legs) {
    for (const o of leg.objects) {
      const found = await store.head(o.key);
      if (!found) throw new ReleaseError(`${o.key} (recorded in ${leg.path}) is not in ${store.url}`);
      if (found.size !== o.size || (found.sha256 !== undefined && found.sha256 !== o.sha256)) {
        const what =
          found.size !== o.size
            ? `${found.size} bytes, the manifest records ${o.size}`
            : "a different SHA-256";
        throw new ReleaseError(`${o.key} in ${store.url} differs from ${leg.path}: ${what}`);
      }
    }
  }
}

/**
 * Files an earlier CHECKSUM of this folder lists that this release does not cover (legs released
 * earlier into the same folder) stay listed, if the store still holds them with that SHA-256
 * (dropUnconfirmed checks).
 */
function keepListedObjects(
  previous: Buffer,
  checksumKey: string,
  entries: Map<string, ChecksumEntry>,
  warn: (line: string) => void,
): void {
  let listed: ChecksumEntry[];
  try {
    listed = parseChecksumFile(previous.toString("utf8"), checksumKey);
  } catch (e) {
    warn(`${checksumKey} in the store is not a checksum file (${(e as Error).message}): it is replaced`);
    return;
  }
  for (const entry of listed) if (!entries.has(entry.name)) entries.set(entry.name, entry);
}

/** This release's own files in a folder (checked against the store, or made now): the legs' and their bundles. */
function ownObjects(
  legs: readonly ReleasedLeg[],
  bundleObjects: Map<ReleasedLeg, { provenance?: PublishedObject; tests?: PublishedObject }>,
  prefix: string,
): PublishedObject[] {
  return legs.flatMap((leg) => {
    const made = bundleObjects.get(leg);
    return [...leg.objects, made?.provenance, made?.tests].filter(
      (o): o is PublishedObject => o !== undefined && prefixOf(o.key) === prefix,
    );
  });
}

/** Entries kept from an earlier CHECKSUM stay only when the store holds the file with the listed SHA-256. */
async function dropUnconfirmed(
  store: ObjectStore,
  prefix: string,
  entries: Map<string, ChecksumEntry>,
  own: ReadonlySet<string>,
  checksumKey: string,
  warn: (line: string) => void,
): Promise<void> {
  for (const entry of [...entries.values()]) {
    if (own.has(entry.name)) continue;
    const found = await store.head(prefix === "" ? entry.name : `${prefix}/${entry.name}`);
    if (found?.sha256 === entry.sha256) {
      entries.set(entry.name, { ...entry, size: found.size });
      continue;
    }
    entries.delete(entry.name);
    warn(
      `${checksumKey} listed ${quoted(entry.name)}, which is ${found ? "no longer the listed file (or its SHA-256 is not recorded)" : "no longer in the store"}: left out`,
    );
  }
}

async function attestOrFail(statement: unknown, attester: Attester, image: string) {
  try {
    return await attest(statement, attester);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = (e as Error).message?.split("\n")[0] ?? String(e);
    throw new ReleaseError(`attesting ${image} failed (${attester.kind}): ${message}`, { cause: e });
  }
}

function itemOf(ftype: string, o: PublishedObject): StreamItem {
  return { ftype, path: o.key, size: o.size, sha256: o.sha256 };
}

/** The index items of one leg's build: its image (named after its format) and every file beside it. */
function indexedBuild(
  leg: ReleasedLeg,
  made: { provenance?: PublishedObject; tests?: PublishedObject } | undefined,
): IndexedBuild {
  const r = leg.manifest.resolved;
  const items: Record<string, StreamItem> = { [r.imageFormat]: itemOf(r.imageFormat, leg.image) };
  for (const o of leg.objects) {
    if (o.role === "checksum") items.sha256sum = itemOf("sha256sum", o);
    else if (o.role === "packages") items.packages = itemOf("packages.txt", o);
    else if (o.role === "sbom")
      items.sbom = itemOf(o.name.endsWith(".spdx.json") ? "spdx.json" : "cdx.json", o);
  }
  if (made?.provenance) items[STREAM_ITEM_PROVENANCE] = itemOf("sigstore.json", made.provenance);
  if (made?.tests) items["test-result"] = itemOf("test-result.sigstore.json", made.tests);
  return {
    leg: leg.manifest.leg,
    almaArch: r.almaArch,
    versionMajor: r.versionMajor,
    release: r.release,
    timeStamp: leg.manifest.timeStamp,
    imageFormat: r.imageFormat,
    imageName: leg.image.name,
    items,
  };
}

async function indexObjects(
  options: ReleaseOptions,
  legs: readonly ReleasedLeg[],
  bundleObjects: Map<ReleasedLeg, { provenance?: PublishedObject; tests?: PublishedObject }>,
): Promise<PlannedObject[]> {
  const { store } = options;
  const raw = await store.get(PRODUCTS_KEY);
  let existing: ProductsDocument | undefined;
  if (raw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const read = parseProducts(parsed);
    if (typeof read === "string") {
      throw new ReleaseError(
        `${PRODUCTS_KEY} in ${store.url} is not a products document this tool wrote (${read}): fix or remove it`,
      );
    }
    existing = read;
  }
  const builds = legs.map((l) => indexedBuild(l, bundleObjects.get(l)));
  const products = mergeProducts(existing, builds, options.now ?? new Date());
  const out: PlannedObject[] = [{ key: PRODUCTS_KEY, data: json(products) }];
  const streams = [...new Set(builds.map((b) => streamIdOf(b.versionMajor)))].sort();
  for (const id of streams) {
    const urlFor = (key: string) =>
      options.publicBaseUrl
        ? `${options.publicBaseUrl.replace(/\/+$/, "")}/${encodeKey(key)}`
        : (store.urlFor(key) ?? key);
    const doc = streamDocument(products, id, urlFor, options.generator);
    if (doc) out.push({ key: streamKeyOf(id), data: json(doc) });
  }
  out.push({ key: INDEX_KEY, data: json(indexDocument(products)) });
  return out;
}

/**
 * Writes the objects one by one, in order. On a failure, rolls back: objects that did not exist are
 * deleted, overwritten ones get their previous content back; then throws a ReleaseError saying so.
 */
async function writeInOrder(
  store: ObjectStore,
  plan: readonly PlannedObject[],
  tags: Tags,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ key: string; status: "uploaded" | "skipped" | "deleted" }[]> {
  const staging = await mkdtemp(join(tmpdir(), "cloud-images-release-"));
  const done: { key: string; previous: Buffer | undefined }[] = [];
  const written: { key: string; status: "uploaded" | "skipped" | "deleted" }[] = [];
  // The rollback's own writes take no signal: they must run after an interrupt.
  const put = async (key: string, data: Buffer, stop?: AbortSignal) => {
    const path = join(staging, ...key.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
    const result = await publishFiles(store, [{ path, role: "other" }], {
      prefix: prefixOf(key),
      tags,
      useSidecarChecksums: false,
      signal: stop,
    });
    await rm(path, { force: true });
    return result.objects[0]!.status === "skipped" ? "skipped" : "uploaded";
  };
  let inFlight: { key: string; previous: Buffer | undefined } | undefined;
  try {
    for (const object of plan) {
      signal?.throwIfAborted();
      inFlight = { key: object.key, previous: await store.get(object.key) };
      if (object.data === undefined) {
        await store.delete(object.key);
        written.push({ key: object.key, status: "deleted" });
        log(`deleted: ${object.key}`);
      } else {
        const status = await put(object.key, object.data, signal);
        written.push({ key: object.key, status });
        log(`${status === "skipped" ? "unchanged" : "written"}: ${object.key}`);
      }
      done.push(inFlight);
      inFlight = undefined;
    }
    return written;
  } catch (e) {
    const reason = (e as Error).message?.split("\n")[0] ?? String(e);
    const what = nameOf(plan[done.length]?.key ?? "");
    const left: string[] = [];
    const restore = async ({ key, previous }: { key: string; previous: Buffer | undefined }) => {
      try {
        if (previous) await put(key, previous);
        else await store.delete(key);
      } catch {
        left.push(key);
      }
    };
    // The write that failed changed nothing, unless it landed after all (a lost response).
    if (inFlight) {
      const now = await store.get(inFlight.key).catch(() => inFlight!.previous);
      const changed = now === undefined ? inFlight.previous !== undefined : !inFlight.previous?.equals(now);
      if (changed) await restore(inFlight);
    }
    for (const object of [...done].reverse()) await restore(object);
    throw new ReleaseError(
      left.length === 0
        ? `writing the release to ${store.url} failed at ${what} (${reason}); everything written was rolled back`
        : `writing the release to ${store.url} failed at ${what} (${reason}); rolling back also failed, these may remain: ${left.join(", ")}`,
      { cause: e },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
