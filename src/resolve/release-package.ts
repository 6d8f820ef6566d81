/**
 * Which package on a mirror tells version V's current point release for arch A, and what a valid
 * answer looks like: `{mirror}/almalinux-release-latest-{V}.{A}.rpm`, named almalinux-release, with
 * VERSION `V.x` (as the seed reads it with `rpm -q --qf '%{VERSION}'`). Pure: the reading is elsewhere.
 */
import { type AlmaArch, ARCHES, LEGS, parseVariant, type Version } from "../catalog/catalog.js";
import { MirrorError, UsageError } from "../errors.js";
import { printable, redactUrlText } from "../text.js";

export const DEFAULT_MIRROR = "https://repo.almalinux.org/almalinux";
export const RELEASE_PACKAGE = "almalinux-release";

/** Validates an almaArch for a version: x86_64_v2 only where the catalog builds -v2 legs. */
export function requireAlmaArch(version: Version, arch: string): AlmaArch {
  const v2 = Object.values(LEGS).some((byArch) =>
    Object.values(byArch).some((variants) =>
      variants.some((v) => {
        const p = parseVariant(v);
        return p?.version === version && p.suffix === "v2";
      }),
    ),
  );
  const valid: string[] = [...ARCHES, ...(v2 ? ["x86_64_v2"] : [])];
  if (!valid.includes(arch)) {
    throw new UsageError(
      `unknown arch "${printable(arch)}" for version ${version} (valid: ${valid.join(", ")})`,
    );
  }
  return arch as AlmaArch;
}

/** The release package URL for a version and arch under a mirror. */
export function releasePackageUrl(mirror: string, version: Version, arch: AlmaArch): URL {
  let base: URL;
  try {
    base = new URL(mirror);
  } catch {
    throw new MirrorError(
      `invalid mirror URL "${printable(redactUrlText(mirror))}" (valid: an http:// or https:// URL)`,
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new MirrorError(`invalid mirror URL scheme "${base.protocol}" (valid: http:// or https://)`);
  }
  const path = base.pathname.replace(/\/+$/, "");
  base.pathname = `${path}/almalinux-release-latest-${version}.${arch}.rpm`;
  base.search = "";
  base.hash = "";
  return base;
}

/**
 * The point release a release package states, after checking that it is the release package of
 * that major version; `shown` names the package's location in messages.
 */
export function pointReleaseOf(
  version: Version,
  pkg: { readonly name: string | null; readonly version: string | null },
  shown: string,
): string {
  if (pkg.name !== RELEASE_PACKAGE) {
    throw new MirrorError(`${shown} holds package "${printable(pkg.name ?? "")}", not ${RELEASE_PACKAGE}`);
  }
  const release = pkg.version ?? "";
  if (!new RegExp(`^${version}(\\.[0-9]+)*$`).test(release)) {
    throw new MirrorError(
      `${shown} holds ${RELEASE_PACKAGE} version "${printable(release)}", not a ${version}.x release`,
    );
  }
  return release;
}
