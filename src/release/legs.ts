/**
 * Which legs a release covers: from the leg manifests of a run, those that were published to the
 * store and passed every test (verify and, when it ran, the boot test). Pure.
 */
import type { LegManifest } from "../manifest/manifest.js";
import type { PublishedObject } from "../publish/published-object.js";

export interface ManifestFile {
  readonly path: string;
  readonly manifest: LegManifest;
}

export interface ReleasedLeg {
  readonly path: string;
  readonly manifest: LegManifest;
  /** The folder (key prefix) the leg published into. */
  readonly prefix: string;
  readonly image: PublishedObject;
  readonly objects: readonly PublishedObject[];
}

export interface SkippedLeg {
  readonly path: string;
  readonly leg: string;
  readonly reason: string;
}

export function legName(m: LegManifest): string {
  return `${m.leg.type} ${m.leg.variant} ${m.leg.arch}`;
}

/** Why a manifest's leg is not released, or undefined when it is. */
export function whyNotReleased(m: LegManifest): string | undefined {
  if (m.tests.offline === "failed" || m.verdict?.passed === false) return "its verification failed";
  if (m.tests.boot === "failed") return "its boot test failed";
  if (m.tests.offline !== "passed") return "it was not verified";
  if (!m.published || m.published.kind === "none") return "it was not published to a store";
  if (m.published.kind === "artifact") return "it went to GitHub artifacts, not to a store";
  if (!m.published.objects.some((o) => o.role === "image")) return "its image was not published";
  return undefined;
}

export function selectLegs(files: readonly ManifestFile[]): { legs: ReleasedLeg[]; skipped: SkippedLeg[] } {
  const legs: ReleasedLeg[] = [];
  const skipped: SkippedLeg[] = [];
  for (const { path, manifest } of files) {
    const reason = whyNotReleased(manifest);
    if (reason) {
      skipped.push({ path, leg: legName(manifest), reason });
      continue;
    }
    const objects = manifest.published!.objects;
    const image = objects.find((o) => o.role === "image")!;
    const slash = image.key.lastIndexOf("/");
    legs.push({ path, manifest, prefix: slash < 0 ? "" : image.key.slice(0, slash), image, objects });
  }
  return { legs, skipped };
}
