/**
 * Finds the processes of one test run, and only those: each run gets a tag in its environment
 * (CLOUD_IMAGES_TEST_TAG), which every process it starts inherits (Packer passes it on to QEMU).
 * Other developers' QEMUs and Packers on this machine are never looked at twice, never touched.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

export const TAG_VARIABLE = "CLOUD_IMAGES_TEST_TAG";

export function newTag(): string {
  return randomUUID();
}

export interface TaggedProcess {
  readonly pid: number;
  /** The command line, arguments joined by spaces. */
  readonly command: string;
}

/** Live (non-zombie) processes whose environment carries `tag`. */
export function taggedProcesses(tag: string): TaggedProcess[] {
  const needle = `\0${TAG_VARIABLE}=${tag}\0`;
  const found: TaggedProcess[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = `\0${readFileSync(`/proc/${name}/environ`, "latin1")}`;
      if (!env.includes(needle)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").join(" ").trim();
      found.push({ pid: Number(name), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Waits up to `ms` for every process carrying `tag` to end; returns those still running then. */
export async function waitForTaggedGone(tag: string, ms: number): Promise<TaggedProcess[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = taggedProcesses(tag);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits up to `ms` until a process carrying `tag` whose command line matches `pattern` runs. */
export async function waitForTagged(tag: string, pattern: RegExp, ms: number): Promise<TaggedProcess> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = taggedProcesses(tag).find((p) => pattern.test(p.command));
    if (hit) return hit;
    if (Date.now() >= deadline) throw new Error(`no process matching ${pattern} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Last resort for a failed test: SIGKILL what this tag's run left (only ours, found by the tag). */
export function killTagged(tag: string): void {
  for (const p of taggedProcesses(tag)) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
