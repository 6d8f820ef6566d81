/**
 * What /proc says about a process: its start time (which, with the pid and the boot id, names one
 * process for good: pids are reused, start times within a boot are not), its process group, whether
 * it is alive. Linux only, like the rest of the tool.
 */
import { readdirSync, readFileSync } from "node:fs";

/** One process, beyond pid reuse: the pid, its start time in clock ticks since boot, and the boot. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
  readonly bootId: string;
}

interface StatFields {
  readonly state: string;
  readonly pgid: number;
  readonly sid: number;
  readonly startTime: number;
}

/** Fields of /proc/PID/stat, or undefined when there is no such process. */
export function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after its last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); pgrp is field 5, session 6, starttime 22.
  const startTime = Number(rest[19]);
  if (!Number.isSafeInteger(startTime)) return undefined;
  return { state: rest[0]!, pgid: Number(rest[2]), sid: Number(rest[3]), startTime };
}

let bootIdCache: string | undefined;

/** This boot's id (changes at every reboot, so a recorded pid from before it names nothing). */
export function bootId(): string {
  bootIdCache ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  return bootIdCache;
}

/** The identity of a running process (default: this one). */
export function identityOf(pid = process.pid): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime, bootId: bootId() } : undefined;
}

/** Is the process this identity names still running (not a zombie, not a new process under an old pid)? */
export function isRunning(who: ProcessIdentity): boolean {
  if (who.bootId !== bootId()) return false;
  const stat = readStat(who.pid);
  return stat !== undefined && stat.startTime === who.startTime && stat.state !== "Z";
}

/**
 * Does a live process still belong to process group `pgid`? Zombies do not count: an orphan's zombie
 * waits for init to reap it, which some inits do only every few seconds.
 */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  for (const name of readdirSync("/proc")) {
    if (name.charCodeAt(0) > 57) continue; // only the numeric entries are processes
    const stat = readStat(Number(name));
    if (stat && stat.pgid === pgid && stat.state !== "Z") return true;
  }
  return false;
}

/** Sends `signal` to every process of group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
