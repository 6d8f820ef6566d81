/**
 * The index documents: stream JSON validated against the JSON Schema written from the Fedora CoreOS
 * format (src/release/stream.schema.json), simplestreams read back by a small independent reader that
 * follows the format as sstream-query does (index → products path → products → versions → items).
 * CHECKSUM files against coreutils sha256sum -c.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import type { LegManifest } from "../../src/manifest/manifest.js";
import { formatChecksumFile, parseChecksumFile } from "../../src/release/checksum-file.js";
import { selectLegs } from "../../src/release/legs.js";
import {
  INDEX_KEY,
  type IndexedBuild,
  indexDocument,
  mergeProducts,
  PRODUCTS_KEY,
  parseProducts,
} from "../../src/release/simplestreams.js";
import { streamDocument } from "../../src/release/stream.js";

const schema = JSON.parse(
  readFileSync(new URL("../../src/release/stream.schema.json", import.meta.url), "utf8"),
);
const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validateStream = ajv.compile(schema);

const hex = (seed: string) =>
  execFileSync("sha256sum", ["-"], { input: seed, encoding: "utf8" }).slice(0, 64);

function build(
  type: string,
  variant: string,
  arch: string,
  release: string,
  stamp: string,
  almaArch = arch,
): IndexedBuild {
  const major = variant.startsWith("10-kitten") ? "10-kitten" : variant.split("-")[0]!;
  const format = type === "azure" ? "raw" : "qcow2";
  const prefix =
    major === "10-kitten"
      ? `images/kitten/10/${type}/${stamp}`
      : `images/${major}/${release}/${type}/${stamp}`;
  const image = `AlmaLinux-${variant}-${type}-${release}-${stamp.slice(0, 8)}.${almaArch}.${format}`;
  const item = (ftype: string, name: string, size: number) => ({
    ftype,
    path: `${prefix}/${name}`,
    size,
    sha256: hex(`${prefix}/${name}`),
  });
  return {
    leg: { type, variant, arch },
    almaArch,
    versionMajor: major,
    release,
    timeStamp: stamp,
    imageFormat: format,
    imageName: image,
    items: {
      [format]: item(format, image, 1000 + stamp.length),
      sha256sum: item("sha256sum", `${image}.sha256sum`, 120),
      packages: item("packages.txt", `${image}.txt`, 4000),
      provenance: item("sigstore.json", `${image}.sigstore.json`, 3000),
    },
  };
}

/** Independent simplestreams reader: what a consumer finds for each product, newest version first. */
function readSimplestreams(get: (path: string) => unknown) {
  const index = get("streams/v1/index.json") as {
    format: string;
    index: Record<string, { format: string; path: string; datatype: string; products: string[] }>;
  };
  if (index.format !== "index:1.0") throw new Error(`not an index: ${index.format}`);
  const found: {
    product: string;
    version: string;
    ftype: string;
    path: string;
    size: number;
    sha256: string;
  }[] = [];
  for (const [contentId, entry] of Object.entries(index.index)) {
    if (entry.format !== "products:1.0" || entry.datatype !== "image-downloads") continue;
    const products = get(entry.path) as {
      content_id: string;
      products: Record<
        string,
        {
          versions: Record<
            string,
            { items: Record<string, { ftype: string; path: string; size: number; sha256: string }> }
          >;
        }
      >;
    };
    if (products.content_id !== contentId) throw new Error("content_id mismatch");
    for (const name of entry.products) {
      const product = products.products[name];
      if (!product) throw new Error(`index names ${name}, missing from ${entry.path}`);
      for (const version of Object.keys(product.versions).sort().reverse()) {
        for (const item of Object.values(product.versions[version]!.items))
          found.push({ product: name, version, ...item });
      }
    }
  }
  return found;
}

describe("index documents", () => {
  const urlFor = (key: string) => `https://almalinux-cloud.s3-accelerate.dualstack.amazonaws.com/${key}`;
  const first = [
    build("gencloud", "9", "x86_64", "9.6", "20260220143000"),
    build("gencloud", "9", "aarch64", "9.6", "20260220143000"),
    build("azure", "9-64k", "aarch64", "9.6", "20260220143000"),
    build("azure", "9", "aarch64", "9.6", "20260220143000"),
    build("gencloud", "10-v2", "x86_64", "10.1", "20260220143000", "x86_64_v2"),
    build("gencloud", "10-kitten", "x86_64", "10", "20260220143000"),
  ];
  const t0 = new Date("2026-02-20T16:00:00Z");

  it("stream documents validate against the schema and point at each leg's newest build", () => {
    let products = mergeProducts(undefined, first, t0);
    // A newer gencloud 9 x86_64 build, then an older one released late: latest stays the newer.
    products = mergeProducts(products, [build("gencloud", "9", "x86_64", "9.7", "20260301120000")], t0);
    products = mergeProducts(products, [build("gencloud", "9", "x86_64", "9.6", "20260225090000")], t0);
    const nine = streamDocument(products, "9", urlFor, "cloud-images test")!;
    expect(validateStream(nine), JSON.stringify(validateStream.errors)).toBe(true);
    expect(Object.keys(nine.architectures)).toEqual(["aarch64", "aarch64_64k", "x86_64"]);
    expect(Object.keys(nine.architectures.aarch64!.artifacts)).toEqual(["azure", "gencloud"]);
    const x86 = nine.architectures.x86_64!.artifacts.gencloud!;
    expect(x86.release).toBe("9.7-20260301120000");
    expect(x86.formats.qcow2!.disk.location).toBe(
      urlFor(build("gencloud", "9", "x86_64", "9.7", "20260301120000").items.qcow2!.path),
    );
    expect(x86.formats.qcow2!.disk.signature).toMatch(/\.qcow2\.sigstore\.json$/);
    expect(nine.architectures.aarch64_64k!.artifacts.azure!.formats.raw!.disk.size).toBeGreaterThan(0);
    expect(nine.metadata["last-modified"]).toBe("2026-03-01T12:00:00Z");

    const ten = streamDocument(products, "10", urlFor, "t")!;
    expect(validateStream(ten)).toBe(true);
    expect(Object.keys(ten.architectures)).toEqual(["x86_64_v2"]);
    const kitten = streamDocument(products, "kitten-10", urlFor, "t")!;
    expect(validateStream(kitten)).toBe(true);
    expect(kitten.architectures.x86_64!.artifacts.gencloud!.release).toBe("10-20260220143000");
    expect(streamDocument(products, "8", urlFor, "t")).toBeUndefined();

    // The schema can fail: a disk without sha256, a bad architecture, a relative location.
    const broken = structuredClone(nine) as unknown as {
      architectures: Record<
        string,
        { artifacts: Record<string, { formats: Record<string, { disk: Record<string, unknown> }> }> }
      >;
    };
    delete broken.architectures.x86_64!.artifacts.gencloud!.formats.qcow2!.disk.sha256;
    expect(validateStream(broken)).toBe(false);
    expect(validateStream({ ...nine, architectures: { ppc64le: nine.architectures.x86_64 } })).toBe(false);
  });

  it("simplestreams: every build is found by an independent reader; products round-trip through the parser", () => {
    const products = mergeProducts(
      mergeProducts(undefined, first, t0),
      [build("gencloud", "9", "x86_64", "9.7", "20260301120000")],
      t0,
    );
    const files: Record<string, unknown> = {
      [INDEX_KEY]: JSON.parse(JSON.stringify(indexDocument(products))),
      [PRODUCTS_KEY]: JSON.parse(JSON.stringify(products)),
    };
    const found = readSimplestreams((path) => {
      if (!(path in files)) throw new Error(`no ${path}`);
      return files[path];
    });
    const images = found.filter((f) => f.ftype === "qcow2" || f.ftype === "raw");
    expect(images).toHaveLength(first.length + 1);
    const gencloud9 = images.filter((f) => f.product === "com.almalinux.cloud:gencloud:9:x86_64");
    expect(gencloud9.map((f) => f.version)).toEqual(["20260301120000", "20260220143000"]);
    for (const f of found) {
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(f.path).toMatch(/^images\//);
    }
    expect(parseProducts(files[PRODUCTS_KEY])).toEqual(products);
    expect(
      (indexDocument(products).index as Record<string, { updated: string }>)[products.content_id]!.updated,
    ).toBe("Fri, 20 Feb 2026 16:00:00 +0000");
    expect(parseProducts({ format: "products:1.0" })).toMatch(/^content_id: /);
  });
});

describe("which legs are released", () => {
  it("only published legs whose verify passed and whose boot test, when it ran, passed", () => {
    const base = JSON.parse(
      readFileSync(new URL("../data/notify/gencloud-9-x86_64.manifest.json", import.meta.url), "utf8"),
    ) as LegManifest;
    const variant = (path: string, change: (m: LegManifest) => void) => {
      const m = structuredClone(base);
      change(m);
      return { path, manifest: m };
    };
    const { legs, skipped } = selectLegs([
      variant("ok", () => {}),
      variant("boot-passed", (m) => {
        m.tests.boot = "passed";
      }),
      variant("boot-failed", (m) => {
        m.tests.boot = "failed";
      }),
      variant("verify-failed", (m) => {
        m.tests.offline = "failed";
        m.verdict!.passed = false;
      }),
      variant("artifacts", (m) => {
        m.published!.kind = "artifact";
      }),
      variant("unpublished", (m) => {
        delete m.published;
      }),
    ]);
    expect(legs.map((l) => l.path)).toEqual(["ok", "boot-passed"]);
    expect(legs[0]!.prefix).toBe("images/9/9.6/gencloud/20260220143000");
    expect(Object.fromEntries(skipped.map((s) => [s.path, s.reason]))).toEqual({
      "boot-failed": "its boot test failed",
      "verify-failed": "its verification failed",
      artifacts: "it went to GitHub artifacts, not to a store",
      unpublished: "it was not published to a store",
    });
  });
});

describe("CHECKSUM files", () => {
  it("coreutils sha256sum -c accepts them (size comments included); parsing reads sizes back", () => {
    const dir = mkdtempSync(join(tmpdir(), "release-checksum-"));
    try {
      const entries = ["b.qcow2", "a.qcow2.txt", "a.qcow2"].map((name) => {
        writeFileSync(join(dir, name), `content of ${name}\n`);
        return { name, sha256: hex(`content of ${name}\n`), size: `content of ${name}\n`.length };
      });
      const text = formatChecksumFile(entries);
      expect(text.split("\n")[0]).toBe(`# a.qcow2: ${entries[2]!.size} bytes`);
      writeFileSync(join(dir, "CHECKSUM"), text);
      expect(execFileSync("sha256sum", ["-c", "--strict", "CHECKSUM"], { cwd: dir, encoding: "utf8" })).toBe(
        "a.qcow2: OK\na.qcow2.txt: OK\nb.qcow2: OK\n",
      );
      expect(parseChecksumFile(text)).toEqual([...entries].sort((a, b) => (a.name < b.name ? -1 : 1)));
      // Plain sha256sum output (no size comments) parses too.
      const plain = execFileSync("sha256sum", ["a.qcow2", "b.qcow2"], { cwd: dir, encoding: "utf8" });
      expect(parseChecksumFile(plain).map((e) => [e.name, e.size])).toEqual([
        ["a.qcow2", undefined],
        ["b.qcow2", undefined],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses malformed lines, duplicates and names that would break the format", () => {
    expect(() => parseChecksumFile("abc  x\n")).toThrow(
      /^CHECKSUM line 1 is not a sha256sum line: "abc {2}x"$/,
    );
    const line = `${"a".repeat(64)}  x\n`;
    expect(() => parseChecksumFile(line + line)).toThrow(/lists "x" twice/);
    expect(() => formatChecksumFile([{ name: "a\nb", sha256: "a".repeat(64) }])).toThrow(UsageError);
    expect(() => formatChecksumFile([{ name: "x", sha256: "XYZ" }])).toThrow(/invalid SHA-256/);
  });
});
