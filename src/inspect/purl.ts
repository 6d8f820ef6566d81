/** Package URLs (purl spec, type `rpm`) for installed packages. */
import type { InstalledPackage } from "../rpm/package.js";

export interface PurlContext {
  /** The vendor namespace: `almalinux`. */
  readonly namespace: string;
  /** The `distro` qualifier, e.g. `almalinux-9.6`; omitted when undefined. */
  readonly distro?: string | undefined;
}

/** Percent-encodes a purl component: everything but unreserved characters (so `+` becomes %2B). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `pkg:rpm/NAMESPACE/NAME@VERSION-RELEASE?arch=ARCH&distro=D&epoch=E`: qualifiers in the spec's
 * canonical (sorted) order, `epoch` only when the package has one, no `arch` for gpg-pubkey.
 */
export function packagePurl(
  pkg: Pick<InstalledPackage, "name" | "epoch" | "version" | "release" | "arch">,
  ctx: PurlContext,
): string {
  const qualifiers: [string, string][] = [];
  if (pkg.arch !== null) qualifiers.push(["arch", pkg.arch]);
  if (ctx.distro !== undefined) qualifiers.push(["distro", ctx.distro]);
  if (pkg.epoch !== null) qualifiers.push(["epoch", String(pkg.epoch)]);
  qualifiers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const q = qualifiers.length > 0 ? `?${qualifiers.map(([k, v]) => `${k}=${encode(v)}`).join("&")}` : "";
  return `pkg:rpm/${encode(ctx.namespace.toLowerCase())}/${encode(pkg.name)}@${encode(`${pkg.version}-${pkg.release}`)}${q}`;
}
