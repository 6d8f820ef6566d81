/**
 * The watchdog: a tiny process, in a session of its own, that outlives the tool only long enough to end
 * the tool's children. The tool tells it on a pipe which process groups it started (`+ PGID STARTTIME`)
 * and which have ended (`- PGID`); when the pipe closes (the tool exited, crashed, or was killed with
 * SIGKILL, which no handler sees) or it gets SIGTERM, it sends SIGTERM to every group still registered,
 * then SIGKILL to what is left after the grace period, and exits. A group whose leader pid now belongs
 * to a younger process (another start time) was never ours and is left alone.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** Plain JavaScript for `node -e`: nothing to bundle or find on disk, the same from src/ and dist/. */
export const WATCHDOG_SOURCE = `"use strict";
const { readdirSync, readFileSync } = require("node:fs");
const grace = Number(process.argv[1]) || 5000;
const groups = new Map();
let pending = "";
let ending = false;
const statOf = (pid) => {
  try {
    const stat = readFileSync("/proc/" + pid + "/stat", "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
};
const startTimeOf = (pid) => {
  const fields = statOf(pid);
  return fields ? Number(fields[19]) : undefined;
};
// Zombies do not count: orphans wait for init to reap them.
const alive = (pgid) => {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return e.code === "EPERM";
  }
  return readdirSync("/proc").some((name) => {
    const fields = /^[0-9]+$/.test(name) ? statOf(name) : undefined;
    return fields !== undefined && Number(fields[2]) === pgid && fields[0] !== "Z";
  });
};
const send = (pgid, signal) => {
  try {
    process.kill(-pgid, signal);
  } catch {}
};
const end = () => {
  if (ending) return;
  ending = true;
  const targets = [];
  for (const [pgid, startTime] of groups) {
    const now = startTimeOf(pgid);
    if (now === undefined || now === startTime) targets.push(pgid);
  }
  for (const pgid of targets) send(pgid, "SIGTERM");
  const deadline = Date.now() + grace;
  const check = () => {
    const left = targets.filter(alive);
    if (left.length === 0) process.exit(0);
    if (Date.now() >= deadline) {
      for (const pgid of left) send(pgid, "SIGKILL");
      process.exit(0);
    }
    setTimeout(check, 50);
  };
  check();
};
for (const s of ["SIGINT", "SIGHUP", "SIGQUIT", "SIGPIPE"]) process.on(s, () => {});
process.on("SIGTERM", end);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf("\\n")) >= 0) {
    const [op, pgid, startTime] = pending.slice(0, nl).split(" ");
    pending = pending.slice(nl + 1);
    if (op === "+") groups.set(Number(pgid), Number(startTime));
    else if (op === "-") groups.delete(Number(pgid));
  }
});
process.stdin.on("end", end);
process.stdin.on("error", end);
process.stdin.on("close", end);
`;

/** How long the watchdog waits between SIGTERM and SIGKILL. */
export const WATCHDOG_GRACE_MS = 5000;

let watchdog: ChildProcess | undefined;
let ready: Promise<void> | undefined;

/** Starts the watchdog once per process; later calls return at once. */
export function ensureWatchdog(): Promise<void> {
  ready ??= new Promise<void>((resolve, reject) => {
    const { NODE_OPTIONS: _, ...env } = process.env;
    const child = spawn(process.execPath, ["-e", WATCHDOG_SOURCE, String(WATCHDOG_GRACE_MS)], {
      cwd: "/", // never pins a mount the tool is done with
      env,
      stdio: ["pipe", "ignore", "ignore"],
      detached: true, // its own session: a signal to the tool's process group does not reach it
    });
    child.once("spawn", () => {
      watchdog = child;
      child.unref();
      (child.stdin as unknown as { unref(): void }).unref();
      child.stdin!.on("error", () => {}); // it died: nothing left to tell it
      resolve();
    });
    child.once("error", (e) => {
      ready = undefined;
      reject(e);
    });
  });
  return ready;
}

/** The watchdog's pid (for tests), once it runs. */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}

export function watchGroup(pgid: number, startTime: number): void {
  watchdog?.stdin?.write(`+ ${pgid} ${startTime}\n`);
}

export function unwatchGroup(pgid: number): void {
  watchdog?.stdin?.write(`- ${pgid}\n`);
}
