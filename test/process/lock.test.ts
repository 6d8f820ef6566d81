/**
 * Locks between runs: held by a live process (checked by pid, start time and boot), refused with its
 * holder named, stale when the holder is gone, never removed by anyone but their holder, and taken over
 * by exactly one of several runs racing for a stale one.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_BUSY, LockedError } from "../../src/errors.js";
import { acquireLock, type LockHolder, lockPathFor } from "../../src/process/lock.js";
import { bootId, identityOf, readStat } from "../../src/process/proc.js";

const HOLDER = fileURLToPath(new URL("./holder.mjs", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "process-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `locks-${n++}`);

function holderLock(dir: string, resource: string, holdMs: number, goFile?: string) {
  const args = [HOLDER, "lock", dir, resource, String(holdMs), ...(goFile ? [goFile] : [])];
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let out = "";
  proc.stdout!.on("data", (d) => {
    out += d;
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      lines.push(JSON.parse(out.slice(0, nl)));
      out = out.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  /** The i-th line the holder prints. */
  const line = (i: number) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => (lines.length > i ? resolve(lines[i]!) : waiters.push(check));
      check();
    });
  const done = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return { proc, first: line(0), line, done };
}

/** A holder record for a process that has exited (its pid is free, or someone else's now). */
function deadHolder(resource: string): LockHolder {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return {
    pid: Number(r.stdout.trim()),
    startTime: 1,
    bootId: bootId(),
    host: hostname(),
    since: "2026-01-01T00:00:00.000Z",
    purpose: "a run that was killed",
    resource,
  };
}

describe("locks", () => {
  it("a second holder is refused, naming the pid and since when; free again after release", async () => {
    const dir = freshDir();
    const a = holderLock(dir, "/srv/output-almalinux-9-gencloud-x86_64", 3000);
    const got = await a.first;
    expect(got.ok).toBe(true);
    const e = await acquireLock("/srv/output-almalinux-9-gencloud-x86_64", { dir, purpose: "test" }).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(LockedError);
    expect(e.exitCode).toBe(EXIT_BUSY);
    expect(e.message).toMatch(
      new RegExp(
        `^/srv/output-almalinux-9-gencloud-x86_64 is in use by pid ${got.pid} since \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\(holder test\\); wait for it to finish or stop it$`,
      ),
    );
    await a.done;
    const lock = await acquireLock("/srv/output-almalinux-9-gencloud-x86_64", { dir, purpose: "test" });
    const recorded = JSON.parse(readFileSync(lock.path, "utf8"));
    expect(recorded).toMatchObject({
      pid: process.pid,
      startTime: readStat(process.pid)!.startTime,
      purpose: "test",
    });
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it("a lock left by a dead process, an older boot or a reused pid does not block", async () => {
    const dir = freshDir();
    const me = identityOf()!;
    const stale: LockHolder[] = [
      deadHolder("r"),
      { ...deadHolder("r"), pid: me.pid, startTime: me.startTime, bootId: "an-earlier-boot" },
      { ...deadHolder("r"), pid: me.pid, startTime: me.startTime - 1 },
    ];
    for (const holder of stale) {
      await acquireLock("r", { dir, purpose: "first" }).then((l) => l.release());
      writeFileSync(lockPathFor(dir, "r"), JSON.stringify(holder));
      const lock = await acquireLock("r", { dir, purpose: "takes over" });
      expect(JSON.parse(readFileSync(lock.path, "utf8")).purpose).toBe("takes over");
      await lock.release();
    }
    // an unreadable lock file (a disk that filled up) is stale too
    writeFileSync(lockPathFor(dir, "r"), "");
    await (await acquireLock("r", { dir, purpose: "x" })).release();
  });

  it("release never removes another run's lock", async () => {
    const dir = freshDir();
    const lock = await acquireLock("k", { dir, purpose: "mine" });
    const other = { ...JSON.parse(readFileSync(lock.path, "utf8")), pid: 1, since: "later" };
    writeFileSync(lock.path, JSON.stringify(other));
    await lock.release();
    expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(1);
  });

  it("of several runs racing for one stale lock, exactly one gets it", async () => {
    const dir = freshDir();
    const resource = "s3://bucket/images/9/9.6/gencloud/20260220143000/x.qcow2";
    await (await acquireLock(resource, { dir, purpose: "setup" })).release();
    writeFileSync(lockPathFor(dir, resource), JSON.stringify(deadHolder(resource)));
    const go = join(dir, "go");
    const racers = Array.from({ length: 6 }, () => holderLock(dir, resource, 1000, go));
    await Promise.all(racers.map((r) => r.first)); // all waiting
    writeFileSync(go, "");
    const outcomes = await Promise.all(racers.map((r) => r.line(1)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.ok)) expect(o.message).toMatch(/is in use by pid \d+/);
    await Promise.all(racers.map((r) => r.done));
  });
});
