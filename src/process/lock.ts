/**
 * Locks between runs of the tool: one file per locked resource (a leg's output directory, a store key),
 * created atomically (link of a complete temp file), holding who holds it: pid, start time, boot id,
 * host, since when, for what. A second run is refused with "in use by pid N since T"; a lock whose
 * holder is gone (no such pid, another start time, another boot) is stale and taken over. Release
 * removes the file only while it is still ours: another run's lock is never deleted.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { LockedError } from "../errors.js";
import { identityOf, isRunning, type ProcessIdentity } from "./proc.js";

export interface LockHolder extends ProcessIdentity {
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** What the holder does, e.g. `cloud-images run gencloud 9 x86_64`. */
  readonly purpose: string;
  /** The locked resource, e.g. the absolute path of the output directory. */
  readonly resource: string;
}

export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still this lock. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Directory of lock files (created when missing). */
  readonly dir: string;
  readonly purpose: string;
  /** How the resource is called in the "in use" message (default: the resource itself). */
  readonly what?: string | undefined;
}

/** The lock file of a resource: a hash of its name, so any string can be locked. */
export function lockPathFor(dir: string, resource: string): string {
  return join(dir, `${createHash("sha256").update(resource).digest("hex").slice(0, 32)}.lock`);
}

export async function acquireLock(resource: string, options: LockOptions): Promise<Lock> {
  await mkdir(options.dir, { recursive: true });
  const path = lockPathFor(options.dir, resource);
  const me = identityOf()!;
  const holder: LockHolder = {
    ...me,
    host: hostname(),
    since: new Date().toISOString(),
    purpose: options.purpose,
    resource,
  };
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(path, holder)) {
      return { path, holder, release: () => releaseIfOurs(path, holder) };
    }
    const { text, current } = await readHolder(path);
    if (text === undefined) continue; // released meanwhile: try again
    if (current && isLive(current)) {
      const by = current.pid === me.pid && current.startTime === me.startTime ? " (this run)" : "";
      const where = current.host !== holder.host ? ` on ${current.host}` : "";
      throw new LockedError(
        `${options.what ?? resource} is in use by pid ${current.pid}${where}${by} since ${current.since} (${current.purpose}); wait for it to finish or stop it`,
      );
    }
    if (attempt >= 5) {
      throw new LockedError(`cannot take over the stale lock ${path} for ${options.what ?? resource}`);
    }
    await breakStale(path, text, holder);
  }
}

/** Is the holder still running? Holders on other hosts cannot be checked and count as running. */
function isLive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  return isRunning(holder);
}

async function createExclusive(path: string, holder: LockHolder): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${JSON.stringify(holder)}\n`, { flag: "wx", mode: 0o644 });
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function readHolder(path: string): Promise<{ text?: string; current?: LockHolder }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as LockHolder;
    if (typeof parsed.pid === "number" && typeof parsed.startTime === "number")
      return { text, current: parsed };
  } catch {
    // unreadable: counts as stale
  }
  return { text };
}

/**
 * Removes a stale lock, but only if it still is the stale lock that was read: the check and the
 * removal happen under a second lock (PATH.break), so two runs taking over one stale lock at the same
 * moment cannot remove each other's fresh lock.
 */
async function breakStale(path: string, staleText: string, me: LockHolder): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await createExclusive(breaker, me))) {
    const { current } = await readHolder(breaker);
    // A breaker left by a run that died in these few lines is itself stale.
    if (!current || !isLive(current)) await unlink(breaker).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 50));
    return;
  }
  try {
    const { text } = await readHolder(path);
    if (text === staleText) await unlink(path).catch(() => {});
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

async function releaseIfOurs(path: string, holder: LockHolder): Promise<void> {
  const { current } = await readHolder(path);
  if (
    current &&
    current.pid === holder.pid &&
    current.startTime === holder.startTime &&
    current.since === holder.since
  ) {
    await unlink(path).catch(() => {});
  }
}
