/**
 * The tool's own state directory, never inside the templates or the output: leg manifests written before
 * there is an image, build logs while Packer runs, and locks. `CLOUD_IMAGES_STATE_DIR`, else
 * `$XDG_STATE_HOME/cloud-images`, else `~/.local/state/cloud-images`.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolDir(env.CLOUD_IMAGES_STATE_DIR, env.XDG_STATE_HOME, [".local", "state"]);
}

/** Where the locks live. */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), "locks");
}

/**
 * The tool's cache (safe to delete): `CLOUD_IMAGES_CACHE_DIR`, else `$XDG_CACHE_HOME/cloud-images`,
 * else `~/.cache/cloud-images`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolDir(env.CLOUD_IMAGES_CACHE_DIR, env.XDG_CACHE_HOME, [".cache"]);
}

/** The tool's own setting, else the XDG base directory (when absolute), else its default under home. */
function toolDir(own: string | undefined, xdg: string | undefined, underHome: string[]): string {
  if (own) return resolve(own);
  if (xdg && isAbsolute(xdg)) return join(xdg, "cloud-images");
  return join(homedir(), ...underHome, "cloud-images");
}
