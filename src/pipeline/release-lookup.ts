/**
 * The current point release, found as the seed finds it: the VERSION of the mirror's
 * almalinux-release-latest package, read from its header alone (HTTP Range requests).
 */
import { isKitten } from "../catalog/catalog.js";
import { requireVersion } from "../catalog/validate.js";
import {
  DEFAULT_MIRROR,
  pointReleaseOf,
  releasePackageUrl,
  requireAlmaArch,
} from "../resolve/release-package.js";
import { tags } from "../rpm/header.js";
import { readRemoteRpm } from "../rpm/remote.js";
import { redactUrl } from "../text.js";

export interface ReleaseLookup {
  /** Major version from the catalog: 10-kitten, 10, 9 or 8. */
  readonly version: string;
  /** x86_64, aarch64 or x86_64_v2 (the latter where the catalog has -v2 legs). */
  readonly arch: string;
  /** Base URL; default https://repo.almalinux.org/almalinux. */
  readonly mirror?: string | undefined;
  /** Whole lookup, in milliseconds; default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Size of the first Range request; default 64 KiB. */
  readonly initialRange?: number | undefined;
}

export interface ReleaseInfo {
  /** The point release, e.g. `9.6` (Kitten: `10`). */
  readonly release: string;
  /** The package URL read, credentials removed (null for Kitten: no network). */
  readonly url: string | null;
  /** NEVRA of the release package read (null for Kitten). */
  readonly package: string | null;
  /** Bytes downloaded and HTTP requests made. */
  readonly bytesFetched: number;
  readonly requests: number;
}

/** Looks up the current point release. Kitten is always `10` and needs no network. */
export async function lookupRelease(input: ReleaseLookup): Promise<ReleaseInfo> {
  const version = requireVersion(input.version);
  const arch = requireAlmaArch(version, input.arch);
  if (isKitten(version)) return { release: "10", url: null, package: null, bytesFetched: 0, requests: 0 };
  const url = releasePackageUrl(input.mirror ?? DEFAULT_MIRROR, version, arch);
  const fetched = await readRemoteRpm(url, input);
  const { header } = fetched.metadata;
  const shown = redactUrl(url);
  const name = header.string(tags.NAME);
  const release = pointReleaseOf(version, { name, version: header.string(tags.VERSION) }, shown);
  const pkgArch = header.string(tags.ARCH);
  return {
    release,
    url: shown,
    package: `${name}-${release}-${header.string(tags.RELEASE)}${pkgArch ? `.${pkgArch}` : ""}`,
    bytesFetched: fetched.bytes,
    requests: fetched.requests,
  };
}
