/** What a leg published and where: the image, its checksum, package list and SBOM, with their URLs. */
import type { LegManifest } from "../manifest/manifest.js";

export interface Link {
  readonly name: string;
  readonly url: string;
}

export interface LegLinks {
  /** Where the links point: an object store, GitHub artifacts, or nowhere. */
  readonly kind: "s3" | "file" | "artifact" | "none";
  readonly image?: Link | undefined;
  readonly checksum?: Link | undefined;
  readonly packages?: Link | undefined;
  /** The CycloneDX SBOM, when it was published (the seed publishes none). */
  readonly sbom?: Link | undefined;
}

/**
 * Links for what the manifest records as published (only objects with a URL). `artifactUrls` (object
 * name → URL, from actions/upload-artifact's `artifact-url` outputs) fill in or override URLs; given
 * without a `published` record, they make an artifact-kind set named after the image.
 */
export function legLinks(
  manifest: LegManifest,
  artifactUrls: Readonly<Record<string, string>> = {},
): LegLinks {
  const imageName = manifest.image?.name;
  const published = manifest.published;
  const hasArtifacts = Object.keys(artifactUrls).length > 0;
  if (!published || published.kind === "none") {
    if (!hasArtifacts || !imageName) return { kind: "none" };
    // Keyed by file name, or by role (`image=URL`, as the shared action passes them).
    const at = (role: string, name: string): Link | undefined => {
      const url = artifactUrls[name] ?? artifactUrls[role];
      return url ? { name, url } : undefined;
    };
    return {
      kind: "artifact",
      image: at("image", imageName),
      checksum: at("checksum", `${imageName}.sha256sum`),
      packages: at("packages", `${imageName}.txt`),
      sbom: at("sbom", `${imageName}.cdx.json`),
    };
  }
  const pick = (role: "image" | "checksum" | "packages" | "sbom"): Link | undefined => {
    const object = published.objects.find((o) => o.role === role);
    if (!object) return undefined;
    const url = artifactUrls[object.name] ?? artifactUrls[role] ?? object.url;
    return url ? { name: object.name, url } : undefined;
  };
  return {
    kind: published.kind,
    image: pick("image"),
    checksum: pick("checksum"),
    packages: pick("packages"),
    sbom: pick("sbom"),
  };
}

/**
 * Exactly one test status line. A failed offline check wins (the image is wrong whatever booted);
 * then the boot test's result when one ran (it runs only on a verified image); then the offline
 * result; `Tests N/A ⚠️` when nothing ran.
 */
export function testStatusLine(tests: LegManifest["tests"]): string {
  if (tests.offline === "failed") return "Tests (offline) failed ❌";
  if (tests.boot === "passed") return "Tests (boot) passed ✅";
  if (tests.boot === "failed") return "Tests (boot) failed ❌";
  if (tests.offline === "passed") return "Tests (offline) passed ✅";
  return "Tests N/A ⚠️";
}

/** `https://github.com/OWNER/REPO/actions/runs/ID` from the runner's environment, when it is there. */
export function workflowRunUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}
