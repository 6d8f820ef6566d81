/**
 * What a build came from and where it ran, for the manifest and the provenance made from it: the git
 * commit of a checkout (templates, this tool), and the builder (a GitHub Actions run, or this host).
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GitSource, LegManifest } from "../manifest/manifest.js";
import { workflowRunUrl } from "../notify/links.js";
import { runChild } from "../process/index.js";

async function git(dir: string, args: readonly string[]): Promise<string | undefined> {
  try {
    // safe.directory: reading a checkout owned by another user (a CI workspace, run as root) is fine.
    const r = await runChild("git", ["-c", "safe.directory=*", "-C", dir, ...args], { timeoutMs: 10_000 });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** A remote URL without user name, password or token (`https://TOKEN@github.com/…` → `https://github.com/…`). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    return u.href.replace(/\/$/, "");
  } catch {
    // scp-like `git@host:owner/repo.git`: the user part names no secret.
    return url;
  }
}

/** The checkout's commit, origin and ref; undefined when `dir` is not inside a git work tree (or git is missing). */
export async function gitSource(dir: string): Promise<GitSource | undefined> {
  const commit = await git(dir, ["rev-parse", "HEAD"]);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const [remote, ref, status] = await Promise.all([
    git(dir, ["config", "--get", "remote.origin.url"]),
    git(dir, ["rev-parse", "--abbrev-ref", "HEAD"]),
    git(dir, ["status", "--porcelain", "--untracked-files=no"]),
  ]);
  return {
    ...(remote ? { repository: withoutCredentials(remote) } : {}),
    commit,
    ...(ref && ref !== "HEAD" ? { ref } : {}),
    ...(status !== undefined ? { dirty: status !== "" } : {}),
  };
}

/**
 * This tool's own checkout, when it runs from one (not when installed from a package into another
 * project's tree: the work tree found must be this project's).
 */
export async function toolSource(): Promise<GitSource | undefined> {
  const here = dirname(fileURLToPath(import.meta.url));
  const top = await git(here, ["rev-parse", "--show-toplevel"]);
  if (!top) return undefined;
  try {
    const pkg = JSON.parse(await readFile(join(top, "package.json"), "utf8")) as { name?: string };
    if (pkg.name !== "cloud-images") return undefined;
  } catch {
    return undefined;
  }
  return gitSource(top);
}

/** The builder: the workflow run (with its attempt) in GitHub Actions, else this host. */
export function builderOf(env: NodeJS.ProcessEnv): NonNullable<LegManifest["builder"]> {
  const run = workflowRunUrl(env);
  if (run) {
    const attempt = env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : "";
    return {
      id: `${run}${attempt}`,
      ...(env.GITHUB_WORKFLOW_REF ? { workflow: env.GITHUB_WORKFLOW_REF } : {}),
      ...(env.RUNNER_NAME ? { host: env.RUNNER_NAME } : {}),
    };
  }
  const host = hostname();
  return { id: `urn:cloud-images:host:${encodeURIComponent(host)}`, host };
}
