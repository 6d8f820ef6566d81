/**
 * What the launcher did with V8's code cache in this process (launch.ts), for CLOUD_IMAGES_STATS=1. Held
 * on globalThis: the launcher and the command's bundle each carry their own copy of this module.
 */
export type CodeCacheUse = "hit" | "miss" | "rejected" | "off";

const KEY = Symbol.for("cloud-images.code-cache");

export function setCodeCacheUse(use: CodeCacheUse): void {
  (globalThis as Record<symbol, unknown>)[KEY] = use;
}

/** "off" too when the command did not start through the launcher (dist/cli.js, tests, the library). */
export function codeCacheUse(): CodeCacheUse {
  return ((globalThis as Record<symbol, unknown>)[KEY] as CodeCacheUse | undefined) ?? "off";
}
