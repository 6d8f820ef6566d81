/**
 * The boot test's checks: pure functions from what the boots showed (console, seed server, SSH, the
 * guest's answers) and what the leg expects, to named results in `verify`'s shape. A check that could not
 * be asked (no SSH, the test stopped early) is `skip` and says why, unless the console alone decides it.
 */
import { createHash } from "node:crypto";
import { containsRelease } from "../inspect/checks.js";
import type { CheckResult } from "../inspect/verdict.js";
import type { Milestone } from "./console.js";
import { keyValues, type Section, type Sections } from "./guest-script.js";
import type { SshFailure } from "./ssh.js";

export const BOOT_CHECK_NAMES = [
  "boot-ssh",
  "login-prompt",
  "console",
  "cloud-init",
  "units",
  "release",
  "release-arch",
  "required-packages",
  "growpart",
  "root-filesystem",
  "selinux",
  "identity",
  "packages-match",
] as const;
export type BootCheckName = (typeof BOOT_CHECK_NAMES)[number];

/** A console pattern match, as recorded. */
export interface ConsoleFinding {
  readonly id: string;
  readonly check: "console" | "units";
  readonly line: string;
  readonly reason: string;
  readonly unit?: string;
}

export type SshOutcome =
  | { readonly ok: true; readonly seconds: number }
  | {
      readonly ok: false;
      readonly failure: SshFailure | "qemu-exited" | "deadline" | "stopped" | "not-tried";
      readonly message: string;
    };

/** Everything one boot showed. Times are seconds since QEMU started. */
export interface BootRun {
  /** 1 for the first boot. */
  readonly index: number;
  readonly findings: readonly ConsoleFinding[];
  readonly milestones: Partial<Record<Milestone, number>>;
  readonly seedFetchedSeconds?: number;
  readonly phoneHomeSeconds?: number;
  readonly ssh: SshOutcome;
  /** Answers at the first login (identity, release, packages, ...). */
  readonly stageOne?: Sections;
  /** Answers once cloud-init finished (cloud-init, units, growpart). */
  readonly stageTwo?: Sections;
  /** Why and when the boot ended. */
  readonly ended: { readonly reason: string; readonly seconds: number };
  readonly consoleLines: number;
}

/** A required package, or a group any one of which will do (the offline policy's `a kernel`). */
export interface RequiredPackageGroup {
  readonly name: string;
  readonly anyOf: readonly string[];
}

/** Every package name a group list mentions, once, for one `rpm -q`. */
export function requiredPackageNames(groups: readonly RequiredPackageGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => g.anyOf))];
}

export interface BootExpectations {
  /** ssh: log in and ask; console: only watch the console (Azure and OCI images want their clouds). */
  readonly mode: "ssh" | "console";
  /** Why console mode, for the skipped checks. */
  readonly consoleOnlyReason?: string;
  readonly user: string;
  readonly releaseString: string;
  /** The release package's ARCH (x86_64, x86_64_v2, aarch64). */
  readonly arch: string;
  readonly releasePackage: string;
  readonly rootFilesystem: string;
  readonly requiredPackages: readonly RequiredPackageGroup[];
  /** The package names the offline reader found (verify's IMAGE.txt), when known. */
  readonly offlinePackages?: readonly string[];
  /** What the image itself carries (read offline before booting): a baked identity. */
  readonly baked?: { readonly machineId?: string; readonly hostKeyFingerprints: readonly string[] };
}

type Base = Pick<CheckResult, "name"> & Partial<Pick<CheckResult, "expected">>;

const fail = (base: Base, found: string, message: string): CheckResult => ({
  ...base,
  status: "fail",
  found,
  message,
});
const pass = (base: Base, found: string, message: string): CheckResult => ({
  ...base,
  status: "pass",
  found,
  message,
});
const skip = (base: Base, message: string): CheckResult => ({ ...base, status: "skip", message });

function firstLine(text: string): string {
  const line = (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** What a failed command said: its output's first line, else its error's, else its exit status. */
function said(section: Section): string {
  return firstLine(section.output) || firstLine(section.stderr) || `exit ${section.status}`;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** Why a check that needs the guest's answers has none. */
function notAsked(run: BootRun, stage: "stageOne" | "stageTwo"): string {
  if (!run.ssh.ok) return `not checked: no SSH login (${run.ssh.message})`;
  const other = stage === "stageOne" ? "the first login" : "cloud-init finishing";
  return `not checked: the test ended before ${other} (${run.ended.reason})`;
}

/** SHA256:… as `ssh-keygen -l` prints it, of one `TYPE BASE64 [COMMENT]` public key line. */
export function hostKeyFingerprint(publicKeyLine: string): string | undefined {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/]+=*$/.test(blob)) return undefined;
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

export interface GuestIdentity {
  readonly machineId: string;
  readonly bootTime: number;
  readonly hostKeys: readonly {
    readonly mtime: number;
    readonly type: string;
    readonly fingerprint: string;
  }[];
}

export function parseIdentity(output: string): GuestIdentity {
  let machineId = "";
  let bootTime = Number.NaN;
  const hostKeys: { mtime: number; type: string; fingerprint: string }[] = [];
  for (const [key, value] of keyValues(output)) {
    if (key === "machine-id") machineId = value.trim();
    else if (key === "boot-time") bootTime = Number(value);
    else if (key === "host-key") {
      const [mtime, type, ...rest] = value.split(/\s+/);
      const fingerprint = hostKeyFingerprint([type, ...rest].join(" "));
      if (fingerprint) hostKeys.push({ mtime: Number(mtime), type: type ?? "", fingerprint });
    }
  }
  return { machineId, bootTime, hostKeys };
}

export function checkBootSsh(runs: readonly BootRun[], exp: BootExpectations): CheckResult {
  const base = { name: "boot-ssh", expected: `SSH login as ${exp.user}` };
  if (exp.mode === "console")
    return skip(base, `not checked: ${exp.consoleOnlyReason ?? "console-only boot"}`);
  const failed = runs.find((r) => !r.ssh.ok);
  if (failed && !failed.ssh.ok) {
    const on = runs.length > 1 ? ` on boot ${failed.index}` : "";
    return fail(base, failed.ssh.failure, `no SSH login${on}: ${failed.ssh.message}`);
  }
  const times = runs.map((r) => (r.ssh.ok ? r.ssh.seconds : 0).toFixed(0));
  return pass(base, `after ${times.join(", ")} s`, `logged in as ${exp.user} after ${times.join(", ")} s`);
}

export function checkLoginPrompt(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "login-prompt", expected: "a login prompt on the serial console" };
  if (exp.mode !== "console") return skip(base, "not checked: the SSH login shows the boot finished");
  const at = run.milestones["login-prompt"];
  if (at !== undefined)
    return pass(base, `after ${at.toFixed(0)} s`, `login prompt after ${at.toFixed(0)} s`);
  return fail(base, "none", `no login prompt on the console (${run.ended.reason})`);
}

export function checkConsole(runs: readonly BootRun[]): CheckResult {
  const base = { name: "console", expected: "no failure pattern" };
  const findings = runs.flatMap((r) =>
    r.findings.filter((f) => f.check === "console").map((f) => ({ boot: r.index, ...f })),
  );
  const lines = runs.reduce((n, r) => n + r.consoleLines, 0);
  if (findings.length === 0) return pass(base, "none", `no failure pattern in ${lines} console lines`);
  const ids = [...new Set(findings.map((f) => f.id))];
  const first = findings[0]!;
  const where = runs.length > 1 ? ` (boot ${first.boot})` : "";
  return fail(base, ids.join(", "), `${first.id}${where}: ${first.line} (${first.reason})`);
}

interface CloudInitStatus {
  status?: string;
  extended_status?: string;
  errors?: unknown[];
  recoverable_errors?: Record<string, unknown[]>;
  detail?: string;
}

export function checkCloudInit(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "cloud-init", expected: "status done, no errors" };
  if (exp.mode === "console")
    return skip(base, `not checked: ${exp.consoleOnlyReason ?? "console-only boot"}`);
  const section = run.stageTwo?.["cloud-init"];
  if (!section) {
    // Without a login, the console and the seed server can still show that cloud-init never ran.
    const ranOnConsole = run.milestones["cloud-init"] !== undefined;
    const booted = run.milestones["login-prompt"] !== undefined;
    if (!ranOnConsole && run.seedFetchedSeconds === undefined && booted) {
      return fail(
        base,
        "not run",
        "cloud-init did not run: the guest reached its login prompt without fetching the seed or printing a cloud-init line",
      );
    }
    return skip(base, notAsked(run, "stageTwo"));
  }
  let parsed: CloudInitStatus;
  try {
    // some cloud-init versions print progress dots while --wait waits, also before JSON
    parsed = JSON.parse(section.output.replace(/^[.\s]+(?=\{)/, "")) as CloudInitStatus;
  } catch {
    return fail(base, said(section), "cloud-init status gave no JSON status");
  }
  const status = parsed.extended_status ?? parsed.status ?? "unknown";
  const errors = (parsed.errors ?? []).map(String);
  if (parsed.status === "done" && errors.length === 0) {
    const recoverable = Object.entries(parsed.recoverable_errors ?? {}).flatMap(([level, list]) =>
      (list ?? []).map((e) => `${level}: ${String(e)}`),
    );
    if (recoverable.length > 0)
      return {
        ...base,
        status: "warn",
        found: status,
        message: `cloud-init finished with ${recoverable.length} recoverable error(s): ${recoverable[0]}`,
      };
    return pass(base, status, `cloud-init finished (${parsed.detail ?? "done"})`);
  }
  const why = errors.length > 0 ? `: ${errors.slice(0, 3).join("; ")}` : "";
  return fail(base, status, `cloud-init status is ${status}${why}`);
}

export function checkUnits(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "units", expected: "running (no failed unit)" };
  const fromConsole = run.findings.filter((f) => f.check === "units");
  const consoleUnits = [...new Set(fromConsole.map((f) => f.unit ?? f.line))];
  const state = run.stageTwo?.units;
  if (state) {
    const found = said(state);
    const failed = (run.stageTwo?.["failed-units"]?.output ?? "")
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0] ?? "")
      .filter((u) => u !== "" && u !== "●");
    // a unit that failed during boot counts even if it was restarted since
    const units = [...new Set([...failed, ...consoleUnits])];
    if (found === "running" && units.length === 0)
      return pass(base, found, "systemctl is-system-running: running");
    const list = units.length > 0 ? `; failed: ${units.join(", ")}` : "";
    return fail(
      base,
      units.length > 0 ? `${found}: ${units.join(", ")}` : found,
      `the system is ${found}${list}`,
    );
  }
  if (consoleUnits.length > 0) {
    return fail(
      base,
      `failed: ${consoleUnits.join(", ")}`,
      `the console shows failed units: ${fromConsole[0]!.line}`,
    );
  }
  if (exp.mode === "console")
    return skip(base, `not checked: ${exp.consoleOnlyReason ?? "console-only boot"}`);
  return skip(base, notAsked(run, "stageTwo"));
}

export function checkRelease(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "release", expected: exp.releaseString };
  const section = run.stageOne?.release;
  if (!section) return skip(base, notAsked(run, "stageOne"));
  if (section.status !== 0) return fail(base, "missing", `/etc/almalinux-release: ${said(section)}`);
  const found = firstLine(section.output);
  if (containsRelease(section.output, exp.releaseString))
    return pass(base, found, `/etc/almalinux-release contains "${exp.releaseString}"`);
  return fail(base, found, "/etc/almalinux-release does not contain the expected release string");
}

export function checkReleaseArch(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "release-arch", expected: exp.arch };
  const section = run.stageOne?.["release-arch"];
  if (!section) return skip(base, notAsked(run, "stageOne"));
  const arches = section.output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (section.status !== 0) return fail(base, said(section), `rpm -q ${exp.releasePackage} failed`);
  if (arches.length > 0 && arches.every((a) => a === exp.arch))
    return pass(base, arches.join(", "), `rpm -q ${exp.releasePackage}: ARCH ${exp.arch}`);
  return fail(
    base,
    arches.join(", "),
    `${exp.releasePackage} has ARCH ${arches.join(", ")}, not ${exp.arch}`,
  );
}

export function checkRequiredPackages(run: BootRun, exp: BootExpectations): CheckResult {
  const groups = exp.requiredPackages;
  const base = { name: "required-packages", expected: `${groups.length} packages` };
  if (groups.length === 0) return skip(base, "no required packages for this leg");
  const section = run.stageOne?.["required-packages"];
  if (!section) return skip(base, notAsked(run, "stageOne"));
  const missing = new Set(
    section.output
      .split("\n")
      .map((l) => /^package (\S+) is not installed/.exec(l.trim())?.[1])
      .filter((n): n is string => n !== undefined),
  );
  if (missing.size === 0 && section.status !== 0)
    return fail(base, said(section), `rpm -q failed (exit ${section.status})`);
  const unmet = groups.filter((g) => g.anyOf.every((n) => missing.has(n)));
  if (unmet.length === 0)
    return pass(base, `all ${groups.length}`, `rpm -q: all ${groups.length} required packages installed`);
  const names = unmet.map((g) =>
    g.anyOf.length === 1 ? g.anyOf[0]! : `${g.name} (${g.anyOf.join(" or ")})`,
  );
  return fail(base, `missing: ${names.join(", ")}`, `not installed: ${names.join(", ")}`);
}

/** The root partition must end where the grown disk ends (GPT keeps 33 sectors and alignment after it). */
const END_SLACK = 2 * 2 ** 20;
/** ...and its filesystem fill it, minus what XFS/ext4 keep for themselves. */
const FS_FILL = 0.9;

export function checkGrowpart(run: BootRun, exp: BootExpectations): CheckResult {
  const base = {
    name: "growpart",
    expected: "the root partition reaches the end of the disk and its filesystem fills it",
  };
  if (exp.mode === "console")
    return skip(base, `not checked: ${exp.consoleOnlyReason ?? "console-only boot"}`);
  const section = run.stageTwo?.growpart;
  if (!section) return skip(base, notAsked(run, "stageTwo"));
  const facts = Object.fromEntries(keyValues(section.output));
  if (facts["not-a-partition"] !== undefined)
    return fail(
      base,
      `root on ${facts.source}`,
      `the root filesystem (${facts.source}) is not on a partition`,
    );
  const [disk, start, size, fs] = ["disk-bytes", "part-start", "part-bytes", "fs-bytes"].map((k) =>
    Number(facts[k]),
  );
  if (![disk, start, size, fs].every((n) => Number.isFinite(n) && n! > 0) || section.status !== 0)
    return fail(base, said(section), "cannot read the root partition's size");
  const end = start! + size!;
  const found = `partition ends at ${gib(end)} of ${gib(disk!)}; filesystem ${gib(fs!)}`;
  if (end < disk! - END_SLACK)
    return fail(
      base,
      found,
      `the root partition (${facts.source}) was not grown: it ends ${gib(disk! - end)} before the end of the disk`,
    );
  if (fs! < size! * FS_FILL)
    return fail(base, found, `the root filesystem was not grown: ${gib(fs!)} on a ${gib(size!)} partition`);
  return pass(base, found, `${facts.source} grown to the end of the ${gib(disk!)} disk`);
}

export function checkRootFilesystem(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "root-filesystem", expected: exp.rootFilesystem };
  const section = run.stageOne?.["root-filesystem"];
  if (!section) return skip(base, notAsked(run, "stageOne"));
  const found = firstLine(section.output);
  if (found === exp.rootFilesystem) return pass(base, found, `findmnt: / is ${found}`);
  return fail(
    base,
    found || `exit ${section.status}`,
    `the root filesystem is ${found || "unknown"}, not ${exp.rootFilesystem}`,
  );
}

export function checkSelinux(run: BootRun): CheckResult {
  const base = { name: "selinux", expected: "Enforcing" };
  const section = run.stageOne?.selinux;
  if (!section) return skip(base, notAsked(run, "stageOne"));
  const found = said(section);
  if (found === "Enforcing") return pass(base, found, "getenforce: Enforcing");
  return fail(base, found, `SELinux is ${found}, not Enforcing`);
}

/** Host keys written before this boot started (seconds of clock slack). */
const KEY_AGE_SLACK = 5;

export function checkIdentity(runs: readonly BootRun[], exp: BootExpectations): CheckResult {
  const base = { name: "identity", expected: "a new machine-id and new host keys on every boot" };
  const identities = runs
    .filter((r) => r.stageOne?.identity)
    .map((r) => ({ boot: r.index, id: parseIdentity(r.stageOne!.identity!.output) }));
  if (identities.length === 0) return skip(base, notAsked(runs[0]!, "stageOne"));
  const problems: string[] = [];
  for (const { boot, id } of identities) {
    const on = runs.length > 1 ? ` on boot ${boot}` : "";
    if (!/^[0-9a-f]{32}$/.test(id.machineId)) problems.push(`machine-id is "${id.machineId}"${on}`);
    else if (exp.baked?.machineId && id.machineId === exp.baked.machineId)
      problems.push(`machine-id ${id.machineId} is baked into the image${on}`);
    if (id.hostKeys.length === 0) problems.push(`no SSH host keys${on}`);
    const baked = id.hostKeys.filter((k) => exp.baked?.hostKeyFingerprints.includes(k.fingerprint));
    if (baked.length > 0)
      problems.push(`host keys ${baked.map((k) => k.type).join(", ")} are baked into the image${on}`);
    else {
      const old = id.hostKeys.filter(
        (k) => Number.isFinite(id.bootTime) && k.mtime < id.bootTime - KEY_AGE_SLACK,
      );
      if (old.length > 0)
        problems.push(`host keys ${old.map((k) => k.type).join(", ")} predate this boot${on}`);
    }
  }
  for (let i = 1; i < identities.length; i++) {
    const a = identities[0]!;
    const b = identities[i]!;
    if (a.id.machineId === b.id.machineId)
      problems.push(`boots ${a.boot} and ${b.boot} have the same machine-id ${a.id.machineId}`);
    const shared = a.id.hostKeys.filter((k) => b.id.hostKeys.some((l) => l.fingerprint === k.fingerprint));
    if (shared.length > 0)
      problems.push(
        `boots ${a.boot} and ${b.boot} have the same ${shared.map((k) => k.type).join(", ")} host key`,
      );
  }
  const first = identities[0]!.id;
  const found = `machine-id ${first.machineId || "(empty)"}, ${first.hostKeys.length} host keys${identities.length > 1 ? `, ${identities.length} boots` : ""}`;
  if (problems.length > 0) return fail(base, found, problems.join("; "));
  const boots = identities.length > 1 ? ` and differ between ${identities.length} boots` : "";
  return pass(base, found, `machine-id and ${first.hostKeys.length} host keys made on this boot${boots}`);
}

export function checkPackagesMatch(run: BootRun, exp: BootExpectations): CheckResult {
  const base = { name: "packages-match", expected: "the live rpm -qa names equal the offline list" };
  if (!exp.offlinePackages) return skip(base, "not checked: no offline package list");
  const section = run.stageOne?.packages;
  if (!section) return skip(base, notAsked(run, "stageOne"));
  const live = section.output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (section.status !== 0) return fail(base, said(section), `rpm -qa failed (exit ${section.status})`);
  const count = (list: readonly string[]) => {
    const m = new Map<string, number>();
    for (const n of list) m.set(n, (m.get(n) ?? 0) + 1);
    return m;
  };
  const l = count(live);
  const o = count(exp.offlinePackages);
  const onlyLive = [...l].filter(([n, c]) => (o.get(n) ?? 0) < c).map(([n]) => n);
  const onlyOffline = [...o].filter(([n, c]) => (l.get(n) ?? 0) < c).map(([n]) => n);
  if (onlyLive.length === 0 && onlyOffline.length === 0)
    return pass(base, `${live.length} names`, `${live.length} package names, the same live and offline`);
  const parts = [
    ...(onlyLive.length ? [`only live: ${onlyLive.slice(0, 10).join(" ")}`] : []),
    ...(onlyOffline.length ? [`only offline: ${onlyOffline.slice(0, 10).join(" ")}`] : []),
  ];
  return fail(
    base,
    parts.join("; "),
    `the running system and the offline reader disagree: ${parts.join("; ")}`,
  );
}

/** Every check, in BOOT_CHECK_NAMES order; the first boot answers all but console and identity. */
export function runBootChecks(runs: readonly BootRun[], exp: BootExpectations): CheckResult[] {
  const first = runs[0]!;
  return [
    checkBootSsh(runs, exp),
    checkLoginPrompt(first, exp),
    checkConsole(runs),
    checkCloudInit(first, exp),
    checkUnits(first, exp),
    checkRelease(first, exp),
    checkReleaseArch(first, exp),
    checkRequiredPackages(first, exp),
    checkGrowpart(first, exp),
    checkRootFilesystem(first, exp),
    checkSelinux(first),
    checkIdentity(runs, exp),
    checkPackagesMatch(first, exp),
  ];
}
