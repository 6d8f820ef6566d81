/**
 * A run's legs as `cloud-images run --to publish` leaves them, without Packer: for each leg an image
 * (pseudo-random bytes), its .sha256sum (coreutils), package list and CycloneDX SBOM, published through
 * the library's publishFiles into a store, and its leg manifest written into a manifests folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Leg } from "../../../src/catalog/catalog.js";
import type { LegManifest } from "../../../src/manifest/manifest.js";
import { recorded } from "../../../src/pipeline/steps/publish.js";
import { publishFiles } from "../../../src/publish/publish.js";
import type { ObjectStore } from "../../../src/publish/types.js";
import { resolveLeg } from "../../../src/resolve/resolve.js";
import { bytesFor, sha256sumOf, writeSha256sum } from "../../publish/helpers/files.js";

export interface LegSpec extends Leg {
  readonly release: string;
  readonly timeStamp: string;
  /** Image size in bytes (default 96 KiB). */
  readonly size?: number;
  /** name@version-release packages (default a fixed small set). */
  readonly packages?: readonly string[];
  readonly tests?: LegManifest["tests"];
  /** Leave it unpublished (a leg whose verify failed). */
  readonly publish?: boolean;
}

export const DEFAULT_PACKAGES = [
  "bash@5.1.8-9.el9",
  "cloud-init@23.4-7.el9",
  "kernel@5.14.0-503.el9",
  "tar@1.34-6.el9",
];

/** The image name the templates would give (the part of the mask before the extension, filled in). */
export function imageNameOf(spec: LegSpec): string {
  const r = resolveLeg(spec, spec.release, spec.timeStamp);
  const date = spec.timeStamp.slice(0, 8);
  const kind = {
    azure: "Azure",
    gencloud: "GenericCloud",
    gencloud_ext4: "GenericCloud-ext4",
    oci: "OCI",
    opennebula: "OpenNebula",
  }[spec.type];
  const suffix = spec.variant.endsWith("-64k") ? "-64k" : "";
  const kitten = spec.variant.startsWith("10-kitten");
  return `AlmaLinux-${kitten ? "Kitten-" : ""}${kitten ? "" : `${r.versionMajor}-`}${kind}-${r.release}${suffix}-${date}.${r.almaArch}.${r.imageFormat}`;
}

function cyclonedx(packages: readonly string[], arch: string): string {
  const components = packages.map((p) => {
    const [name, evr] = p.split("@") as [string, string];
    const dash = evr.lastIndexOf("-");
    return {
      type: "operating-system" === name ? "operating-system" : "library",
      name,
      version: evr,
      purl: `pkg:rpm/almalinux/${name}@${evr}?arch=${arch}`,
      properties: [
        { name: "rpm:version", value: evr.slice(0, dash) },
        { name: "rpm:release", value: evr.slice(dash + 1) },
        { name: "rpm:arch", value: arch },
      ],
    };
  });
  return `${JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components }, null, 2)}\n`;
}

export interface PublishedLeg {
  readonly spec: LegSpec;
  readonly manifest: LegManifest;
  readonly manifestPath: string;
  readonly imagePath: string;
  readonly imageName: string;
}

/** Publishes one leg into `store` and writes its manifest under `manifestsDir/LEG/`. */
export async function publishLeg(
  store: ObjectStore,
  work: string,
  manifestsDir: string,
  spec: LegSpec,
): Promise<PublishedLeg> {
  const r = resolveLeg(spec, spec.release, spec.timeStamp);
  const name = imageNameOf(spec);
  const dir = join(work, `${spec.type}-${spec.variant}-${spec.arch}-${spec.timeStamp}`);
  mkdirSync(dir, { recursive: true });
  const imagePath = join(dir, name);
  writeFileSync(imagePath, bytesFor(`${name}`, spec.size ?? 96 * 1024));
  writeSha256sum(dir, name);
  const packages = spec.packages ?? DEFAULT_PACKAGES;
  writeFileSync(
    `${imagePath}.txt`,
    `${packages
      .map((p) => p.split("@")[0])
      .sort()
      .join("\n")}\n`,
  );
  writeFileSync(`${imagePath}.cdx.json`, cyclonedx(packages, r.almaArch));
  const tests = spec.tests ?? { offline: "passed" };
  const passed = tests.offline === "passed" && tests.boot !== "failed";
  const manifest: LegManifest = {
    schemaVersion: 1,
    leg: { type: spec.type, variant: spec.variant, arch: spec.arch },
    resolved: r,
    timeStamp: spec.timeStamp,
    dateStamp: spec.timeStamp.slice(0, 8),
    templatesDir: "/build/templates",
    sources: {
      templates: {
        repository: "https://github.com/AlmaLinux/cloud-images",
        commit: "a".repeat(40),
        ref: "main",
        dirty: false,
      },
    },
    builder: {
      id: "https://github.com/AlmaLinux/cloud-images/actions/runs/42/attempts/1",
      workflow: "AlmaLinux/cloud-images/.github/workflows/gencloud-build.yml@refs/heads/main",
    },
    tools: { node: "v20.20.2", "cloud-images": "0.1.0", packer: "1.6.6", qemu: "7.2.22" },
    image: { name, path: imagePath, size: spec.size ?? 96 * 1024, sha256: sha256sumOf(imagePath) },
    verdict: {
      passed: tests.offline === "passed",
      image: name,
      checks: [
        {
          name: "release-file",
          status: tests.offline === "passed" ? "pass" : "fail",
          message: "release file",
        },
        { name: "rpmdb", status: "pass", message: "rpm database read" },
        { name: "root-partition", status: "warn", message: "root found on another partition" },
      ],
      packageCount: packages.length,
      packagesFile: `${imagePath}.txt`,
    },
    tests,
    steps: [
      {
        name: "prepare",
        status: "ok",
        startedAt: "2026-02-20T14:30:01.000Z",
        endedAt: "2026-02-20T14:30:02.000Z",
        durationMs: 1000,
      },
      {
        name: "publish",
        status: "ok",
        startedAt: "2026-02-20T15:10:00.000Z",
        endedAt: "2026-02-20T15:11:00.000Z",
        durationMs: 60000,
      },
    ],
  };
  if (spec.publish !== false && passed) {
    const result = await publishFiles(
      store,
      [
        { path: imagePath, role: "image" },
        { path: `${imagePath}.sha256sum`, role: "checksum" },
        { path: `${imagePath}.txt`, role: "packages" },
        { path: `${imagePath}.cdx.json`, role: "sbom" },
      ],
      { prefix: r.s3Prefix, tags: { public: "yes" } },
    );
    manifest.published = { store: result.store, kind: result.kind, objects: recorded(result.objects) };
  }
  const legDir = join(manifestsDir, `${spec.type}-${spec.variant}-${spec.arch}-${spec.timeStamp}`);
  mkdirSync(legDir, { recursive: true });
  const manifestPath = join(legDir, `${name}.manifest.json`);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { spec, manifest, manifestPath, imagePath, imageName: name };
}
