/**
 * The boot test: boot an image in QEMU (KVM when it works, TCG otherwise) on a throwaway qcow2 overlay
 * grown to the test's disk size, hand it credentials the way its cloud would (NoCloud seed over HTTP,
 * an OpenNebula CONTEXT volume, or nothing for Azure and OCI, whose images want their clouds' metadata
 * services), watch its console, log in over SSH and ask it what a cloud user would check. The test ends
 * as soon as its outcome is certain; QEMU always ends, and the overlay, seed and server are removed.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve as resolvePath } from "node:path";
import { type Arch, type ImageType, parseVariant } from "../catalog/catalog.js";
import { requireLeg } from "../catalog/validate.js";
import { BootTestError, InterruptedError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import type { CheckResult } from "../inspect/verdict.js";
import { requiredPackages } from "../policy/leg.js";
import { type Child, runChild, startChild } from "../process/children.js";
import { requireRelease, resolveLeg } from "../resolve/resolve.js";
import { type AcceleratorChoice, chooseAccelerator } from "./accel.js";
import {
  type BootExpectations,
  type BootRun,
  type ConsoleFinding,
  type RequiredPackageGroup,
  requiredPackageNames,
  runBootChecks,
  type SshOutcome,
} from "./checks.js";
import { ConsoleWatch, type Milestone } from "./console.js";
import { FileTail } from "./file-tail.js";
import {
  identityScript,
  parseSections,
  type Sections,
  stageOneScript,
  stageTwoScript,
} from "./guest-script.js";
import { requireFirmware, requireHostTools } from "./host.js";
import { type BootImageFacts, readImageFacts } from "./image-facts.js";
import { writeIso9660 } from "./iso9660.js";
import { type Accelerator, GUEST_MAC, type MachineSpec, qemuArgs } from "./machine.js";
import { type BootPhases, type BootRecord, type BootTestResult, bootJunit } from "./result.js";
import { noCloudSeed, noCloudSmbiosSerial, openNebulaContext, SLIRP_HOST } from "./seed.js";
import { PHONE_HOME_PATH, type SeedServer, startSeedServer } from "./seed-server.js";
import { makeKeyPair, runRemoteScript, type SshTarget, trySsh } from "./ssh.js";

export interface BootTestOptions {
  readonly type: string;
  readonly variant: string;
  readonly arch: string;
  /** The point release (9.6); Kitten is always 10. */
  readonly release?: string | undefined;
  /** The overlay's virtual size in bytes (default 20 GiB); at least the image's. */
  readonly diskSizeBytes?: number | undefined;
  /** The whole test's budget (default 600 s with KVM, 1500 s with TCG). */
  readonly timeoutSeconds?: number | undefined;
  readonly accelerator?: Accelerator | "auto" | undefined;
  readonly firmware?: "uefi" | "bios" | undefined;
  readonly firmwareCode?: string | undefined;
  readonly firmwareVars?: string | undefined;
  readonly cpus?: number | undefined;
  readonly memoryMiB?: number | undefined;
  /** 2 or more: boot fresh overlays again and require a different identity each time. */
  readonly boots?: number | undefined;
  /** The cloud user to log in as (default almalinux). */
  readonly user?: string | undefined;
  /** The QEMU binary (default qemu-system-ARCH on PATH). */
  readonly qemu?: string | undefined;
  /** Run every check even after the outcome is certain. */
  readonly keepGoing?: boolean | undefined;
  /**
   * How long SSH may keep failing after cloud-init finished (or the login prompt appeared) before the
   * test calls it certain, unless the guest accepted the connection (default 20 s with KVM, 90 s with TCG).
   */
  readonly sshGraceSeconds?: number | undefined;
  /** The offline package names (verify's IMAGE.txt); default: read from the image. */
  readonly offlinePackages?: readonly string[] | undefined;
  /**
   * The packages `rpm -q` must find, each a name or a group any one of which will do; default: the leg's
   * offline policy's `required-packages` rule (src/policy requiredPackages()).
   */
  readonly requiredPackages?: readonly (string | RequiredPackageGroup)[] | undefined;
  /** Default IMAGE.console.log (boot N > 1: IMAGE.console-N.log). */
  readonly consoleLog?: string | undefined;
  /** Default IMAGE.boot.json; null: not written. */
  readonly resultFile?: string | null | undefined;
  readonly junitFile?: string | undefined;
  /** Where overlays, keys and seeds live while the test runs (default the OS temp directory). */
  readonly workDir?: string | undefined;
  readonly kvmDevice?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Aborting ends the test (QEMU stopped, everything removed); the promise rejects with the reason. */
  readonly signal?: AbortSignal | undefined;
  /** Progress lines. */
  readonly log?: ((line: string) => void) | undefined;
}

export const DEFAULT_DISK_SIZE = 20 * 2 ** 30;
export const DEFAULT_TIMEOUT_SECONDS: Readonly<Record<Accelerator, number>> = { kvm: 600, tcg: 1500 };

type CredentialMode = "nocloud" | "context" | "console";

/** How each image type gets its credentials; Azure and OCI look for their clouds' metadata services. */
export const CREDENTIALS: Readonly<Record<ImageType, CredentialMode>> = {
  gencloud: "nocloud",
  gencloud_ext4: "nocloud",
  opennebula: "context",
  azure: "console",
  oci: "console",
};

const CONSOLE_ONLY_REASON: Partial<Record<ImageType, string>> = {
  azure:
    "Azure images wait for Azure's metadata service (WALinuxAgent/cloud-init Azure datasource); only the console is checked",
  oci: "OCI images wait for Oracle Cloud's metadata service; only the console is checked",
};

const WORK_PREFIX = "cloud-images-boot-";

/**
 * Work directories of boot tests whose process is gone (killed with SIGKILL: no cleanup ran; the
 * process supervisor's watchdog ended their QEMU): removed at the next start.
 */
async function sweepDeadWorkDirs(parent: string): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const m = new RegExp(`^${WORK_PREFIX}(\\d+)-`).exec(name);
    if (!m || isRunning(Number(m[1]))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sidecar files of a boot test, beside the image. */
export const bootFiles = {
  console: (image: string, boot = 1) =>
    boot === 1 ? `${image}.console.log` : `${image}.console-${boot}.log`,
  result: (image: string) => `${image}.boot.json`,
};

function intOption(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`invalid ${name} ${value} (valid: an integer from ${min} to ${max})`);
  return value;
}

/** "20G", "512M", "21474836480": bytes. */
export function parseDiskSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m)
    throw new UsageError(
      `invalid disk size "${text}" (valid: bytes or a number with K, M, G or T, e.g. 20G)`,
    );
  const unit = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2]!.toUpperCase()]!;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`invalid disk size "${text}"`);
  return bytes;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2).replace(/\.?0+$/, "")} GiB`;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wakes a waiting loop early (a console event, QEMU's exit, an abort). */
class Wakeup {
  private waiters: (() => void)[] = [];
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

interface Plan {
  readonly image: string;
  readonly arch: Arch;
  readonly type: ImageType;
  readonly mode: CredentialMode;
  readonly expectations: BootExpectations;
  readonly facts: BootImageFacts;
  readonly diskSize: number;
  readonly boots: number;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly keepGoing: boolean;
  readonly sshGraceMs: number;
  readonly firmware: { kind: "uefi"; code: string; vars: string } | { kind: "bios" };
  readonly tools: Awaited<ReturnType<typeof requireHostTools>>;
  readonly accelerator: AcceleratorChoice;
  readonly timeoutSeconds: number;
  readonly leg: BootTestResult["leg"];
}

/** Validates everything a user can get wrong before anything starts (exit 2 with one line). */
async function plan(image: string, options: BootTestOptions): Promise<Plan> {
  const leg = requireLeg(options.type, options.variant, options.arch);
  const version = parseVariant(leg.variant)!.version;
  const release = requireRelease(version, options.release);
  const resolved = resolveLeg(leg, release, "20000101000000");
  const boots = intOption("--boots", options.boots, 1, 5, 1);
  const cpus = intOption("--cpus", options.cpus, 1, 64, 2);
  const memoryMiB = intOption("--memory", options.memoryMiB, 256, 1024 * 1024, 2048);
  if (options.timeoutSeconds !== undefined) intOption("--timeout", options.timeoutSeconds, 10, 86_400, 0);
  const firmwareKind = options.firmware ?? "uefi";
  if (firmwareKind === "bios" && leg.arch !== "x86_64")
    throw new UsageError(`--firmware bios is for x86_64 legs (${leg.arch} boots with UEFI only)`);
  const user = options.user ?? "almalinux";
  if (!/^[a-z_][a-z0-9_-]*$/.test(user))
    throw new UsageError(`invalid user "${user}" (valid: a Linux user name)`);

  try {
    const st = await stat(image);
    if (!st.isFile())
      throw new UsageError(`${image} is not a regular file (valid: a raw or qcow2 disk image)`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${image} does not exist (valid: a raw or qcow2 disk image)`);
  }
  const facts = await readImageFacts(image, resolved.rootPartition);
  const diskSize = options.diskSizeBytes ?? Math.max(DEFAULT_DISK_SIZE, facts.virtualSize);
  if (diskSize < facts.virtualSize)
    throw new UsageError(
      `--disk-size ${gib(diskSize)} is smaller than the image (${gib(facts.virtualSize)}; valid: at least ${facts.virtualSize} bytes)`,
    );

  const tools = await requireHostTools(leg.arch, options.qemu);
  const firmware =
    firmwareKind === "bios"
      ? ({ kind: "bios" } as const)
      : {
          kind: "uefi" as const,
          ...(await requireFirmware(leg.arch, {
            ...(options.firmwareCode !== undefined ? { code: options.firmwareCode } : {}),
            ...(options.firmwareVars !== undefined ? { vars: options.firmwareVars } : {}),
          })),
        };
  const accelerator = await chooseAccelerator(
    options.accelerator ?? "auto",
    tools.qemu,
    leg.arch,
    options.kvmDevice,
  );
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS[accelerator.accelerator];
  const type = leg.type as ImageType;
  const mode = CREDENTIALS[type];
  const consoleOnlyReason = CONSOLE_ONLY_REASON[type];
  const offlinePackages = options.offlinePackages ?? facts.packageNames;
  const expectations: BootExpectations = {
    mode: mode === "console" ? "console" : "ssh",
    ...(consoleOnlyReason ? { consoleOnlyReason } : {}),
    user,
    releaseString: resolved.releaseString,
    arch: resolved.almaArch,
    releasePackage: resolved.releasePackage,
    rootFilesystem: resolved.rootFilesystem,
    // by default the offline policy's required-packages rule for the leg: the same data, checked live
    requiredPackages: (options.requiredPackages ?? requiredPackages(leg)).map((r) =>
      typeof r === "string" ? { name: r, anyOf: [r] } : r,
    ),
    ...(offlinePackages ? { offlinePackages } : {}),
    baked: {
      ...(facts.machineId ? { machineId: facts.machineId } : {}),
      hostKeyFingerprints: facts.hostKeyFingerprints,
    },
  };
  return {
    image,
    arch: leg.arch,
    type,
    mode,
    expectations,
    facts,
    diskSize,
    boots,
    cpus,
    memoryMiB,
    keepGoing: options.keepGoing ?? false,
    sshGraceMs: (options.sshGraceSeconds ?? (accelerator.accelerator === "tcg" ? 90 : 20)) * 1000,
    firmware,
    tools,
    accelerator,
    timeoutSeconds,
    leg: { type: leg.type, variant: leg.variant, arch: leg.arch, release },
  };
}

/** The state of one boot while it runs. */
class BootSession {
  readonly started = Date.now();
  readonly watch = new ConsoleWatch();
  readonly wake = new Wakeup();
  readonly abort = new AbortController();
  readonly milestones: Partial<Record<Milestone, number>> = {};
  readonly findings: ConsoleFinding[] = [];
  seedFetched?: number;
  phoneHome?: number;
  cloudInitDone?: number;
  qemuExited?: string;
  endReason?: string;
  ssh: SshOutcome = { ok: false, failure: "not-tried", message: "no attempt yet" };
  stageOne?: Sections;
  stageTwo?: Sections;

  constructor(
    readonly index: number,
    readonly consoleLog: string,
    private readonly log: (line: string) => void,
    private readonly deadline: number,
  ) {}

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  remainingMs(): number {
    return this.deadline - Date.now();
  }

  say(line: string): void {
    this.log(`boot ${this.index}: ${line}`);
  }

  consoleData(chunk: Buffer): void {
    const events = this.watch.feed(chunk);
    for (const name of events.milestones) this.milestone(name);
    for (const m of events.matches) {
      this.findings.push({
        id: m.pattern.id,
        check: m.pattern.check,
        line: m.line,
        reason: m.pattern.reason,
        ...(m.unit ? { unit: m.unit } : {}),
      });
      this.say(`console: ${m.pattern.id}: ${m.line}`);
      if (m.pattern.fatal) this.end(`${m.pattern.id} on the console`);
      else this.wake.notify();
    }
  }

  milestone(name: Milestone): void {
    if (this.milestones[name] !== undefined) return;
    const at = this.seconds();
    this.milestones[name] = at;
    if (name === "cloud-init-done") this.cloudInitDone ??= at;
    const what: Record<Milestone, string> = {
      kernel: "kernel started",
      init: "init started",
      "cloud-init": "cloud-init running",
      "cloud-init-done": "cloud-init finished (console)",
      "login-prompt": "login prompt",
    };
    this.say(`${what[name]} after ${at.toFixed(0)} s`);
    this.wake.notify();
  }

  /** Ends the boot for `reason` (the first reason wins). */
  end(reason: string): void {
    this.endReason ??= reason;
    this.abort.abort();
    this.wake.notify();
  }

  ended(): boolean {
    return this.endReason !== undefined;
  }

  toRun(): BootRun {
    return {
      index: this.index,
      findings: [...this.findings],
      milestones: { ...this.milestones },
      ...(this.seedFetched !== undefined ? { seedFetchedSeconds: this.seedFetched } : {}),
      ...(this.phoneHome !== undefined ? { phoneHomeSeconds: this.phoneHome } : {}),
      ssh: this.ssh,
      ...(this.stageOne ? { stageOne: this.stageOne } : {}),
      ...(this.stageTwo ? { stageTwo: this.stageTwo } : {}),
      ended: { reason: this.endReason ?? "finished", seconds: this.seconds() },
      consoleLines: this.watch.lineCount,
    };
  }
}

function phasesOf(run: BootRun, cloudInitDone: number | undefined): BootPhases {
  const m = run.milestones;
  const sshAt = run.ssh.ok ? run.ssh.seconds : m["login-prompt"];
  const span = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b >= a ? Number((b - a).toFixed(1)) : undefined;
  const phases: Record<string, number | undefined> = {
    firmware: m.kernel !== undefined ? Number(m.kernel.toFixed(1)) : undefined,
    kernel: span(m.kernel, m.init),
    ssh: span(m.init, sshAt),
    cloudInit: span(run.ssh.ok ? run.ssh.seconds : undefined, cloudInitDone),
  };
  return Object.fromEntries(Object.entries(phases).filter(([, v]) => v !== undefined)) as BootPhases;
}

export async function bootTest(imagePath: string, options: BootTestOptions): Promise<BootTestResult> {
  const log = options.log ?? (() => {});
  const image = resolvePath(imagePath);
  const p = await plan(image, options);
  if (p.accelerator.warning) log(`warning: ${p.accelerator.warning}`);
  const started = Date.now();
  const deadline = started + p.timeoutSeconds * 1000;
  log(
    `boot test of ${image}: ${p.leg.type} ${p.leg.variant} ${p.leg.arch}, ${p.accelerator.accelerator.toUpperCase()}, ` +
      `${p.firmware.kind === "uefi" ? "UEFI" : "SeaBIOS"}, ${p.cpus} vCPUs, ${p.memoryMiB} MiB, disk ${gib(p.diskSize)}, ` +
      `budget ${p.timeoutSeconds} s${p.boots > 1 ? `, ${p.boots} boots` : ""}`,
  );
  if (p.mode === "console") log(CONSOLE_ONLY_REASON[p.type]!);

  const parent = options.workDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  await sweepDeadWorkDirs(parent);
  const work = await mkdtemp(join(parent, `${WORK_PREFIX}${process.pid}-`));
  const runs: BootRun[] = [];
  const records: BootRecord[] = [];
  let stoppedEarly: string | undefined;
  let failedTail: string[] | undefined;
  try {
    const key = await makeKeyPair(p.tools.sshKeygen, work);
    for (let index = 1; index <= p.boots; index++) {
      const consoleLog =
        index === 1 && options.consoleLog ? options.consoleLog : bootFiles.console(image, index);
      const session = new BootSession(index, consoleLog, log, deadline);
      await runBoot(p, session, work, key, options);
      const run = session.toRun();
      runs.push(run);
      const { stageOne: _answers, stageTwo: _later, ...seen } = run;
      records.push({
        ...seen,
        consoleLog,
        phases: phasesOf(run, session.cloudInitDone),
        ...(session.cloudInitDone !== undefined ? { cloudInitDoneSeconds: session.cloudInitDone } : {}),
      });
      throwIfInterrupted(options.signal);
      const failing = runBootChecks(runs, p.expectations).filter((c) => c.status === "fail");
      if (failing.length > 0) failedTail ??= session.watch.lastLines();
      if (failing.length > 0 && !p.keepGoing && index < p.boots) {
        stoppedEarly = `the outcome was certain after boot ${index} (${failing.map((c) => c.name).join(", ")} failed): boot ${index + 1} was not started`;
        break;
      }
      if (session.endReason?.startsWith("outcome certain")) stoppedEarly = session.endReason;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const checks = runBootChecks(runs, p.expectations);
  const passed = checks.every((c) => c.status !== "fail");
  const result: BootTestResult = {
    passed,
    image,
    leg: p.leg,
    accelerator: p.accelerator.accelerator,
    ...(p.accelerator.warning ? { acceleratorWarning: p.accelerator.warning } : {}),
    firmware: p.firmware.kind,
    diskSizeBytes: p.diskSize,
    timeoutSeconds: p.timeoutSeconds,
    checks,
    boots: records,
    ...(stoppedEarly ? { stoppedEarly } : {}),
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    ...(!passed && failedTail ? { consoleTail: failedTail } : {}),
  };
  const resultFile = options.resultFile === undefined ? bootFiles.result(image) : options.resultFile;
  if (resultFile !== null) await writeFileAtomic(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  if (options.junitFile) await writeFileAtomic(options.junitFile, bootJunit(result));
  return result;
}

/** Creates the overlay: a qcow2 on top of the image (never written), grown to the test's disk size. */
async function makeOverlay(p: Plan, path: string, signal: AbortSignal | undefined): Promise<void> {
  const r = await runChild(
    p.tools.qemuImg,
    ["create", "-q", "-f", "qcow2", "-F", p.facts.format, "-b", p.image, path, String(p.diskSize)],
    { timeoutMs: 60_000, signal },
  );
  if (r.exitCode !== 0)
    throw new BootTestError(
      `qemu-img could not make the overlay: ${r.stderr.trim().split("\n").pop() ?? r.exitCode}`,
    );
}

async function runBoot(
  p: Plan,
  s: BootSession,
  work: string,
  key: { key: string; publicKey: string },
  options: BootTestOptions,
): Promise<void> {
  const dir = join(work, `boot-${s.index}`);
  await mkdir(dir);
  const onAbort = () => s.end("interrupted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let server: SeedServer | undefined;
  let qemu: Child | undefined;
  const tail = new FileTail(s.consoleLog, (c) => s.consoleData(c));
  try {
    throwIfInterrupted(options.signal);
    const overlay = join(dir, "disk.qcow2");
    await makeOverlay(p, overlay, options.signal);
    const volumes: string[] = [];
    let smbiosSerial: string | undefined;
    const instanceId = `cloud-images-${randomBytes(8).toString("hex")}`;
    if (p.mode === "nocloud") {
      let port = 0;
      const files = () =>
        noCloudSeed({
          instanceId,
          publicKey: key.publicKey,
          phoneHomeUrl: `http://${SLIRP_HOST}:${port}${PHONE_HOME_PATH}`,
        });
      const seed: Record<string, string> = {};
      server = await startSeedServer(seed, {
        onSeedFetched: () => {
          if (s.seedFetched === undefined) {
            s.seedFetched = s.seconds();
            s.say(`seed fetched after ${s.seedFetched.toFixed(0)} s`);
          }
        },
        onPhoneHome: () => {
          if (s.phoneHome === undefined) {
            s.phoneHome = s.seconds();
            s.cloudInitDone ??= s.phoneHome;
            s.say(`cloud-init phoned home after ${s.phoneHome.toFixed(0)} s`);
            s.wake.notify();
          }
        },
      });
      port = server.port;
      Object.assign(seed, files());
      smbiosSerial = noCloudSmbiosSerial(`http://${SLIRP_HOST}:${port}/`);
    } else if (p.mode === "context") {
      const iso = join(dir, "context.iso");
      const context = openNebulaContext({
        user: p.expectations.user,
        publicKey: key.publicKey,
        mac: GUEST_MAC,
      });
      await writeFile(iso, writeIso9660("CONTEXT", [{ name: "context.sh", data: Buffer.from(context) }]));
      volumes.push(iso);
    }
    let firmware: MachineSpec["firmware"] = { kind: "bios" };
    if (p.firmware.kind === "uefi") {
      // each boot starts from the firmware's pristine variable store
      firmware = { kind: "uefi", code: p.firmware.code, vars: join(dir, "vars.fd") };
      await copyFile(p.firmware.vars, firmware.vars);
    }
    await mkdir(dirname(s.consoleLog), { recursive: true });

    // A port picked now can be taken before QEMU binds it: then QEMU fails at once and we pick again.
    let sshPort = 0;
    for (let attempt = 1; ; attempt++) {
      sshPort = await freePort();
      await writeFile(s.consoleLog, "");
      const spec: MachineSpec = {
        arch: p.arch,
        accelerator: p.accelerator.accelerator,
        firmware,
        cpus: p.cpus,
        memoryMiB: p.memoryMiB,
        disk: overlay,
        consoleLog: s.consoleLog,
        volumes,
        sshPort,
        ...(smbiosSerial ? { smbiosSerial } : {}),
      };
      qemu = await startChild(p.tools.qemu, qemuArgs(spec), { env: options.env, killGraceMs: 3000 });
      const early = await Promise.race([qemu.result, sleep(1500).then(() => undefined)]);
      if (early && /host ?forward|hostfwd/i.test(early.stderr) && attempt < 4) continue;
      break;
    }
    s.say(`QEMU started (pid ${qemu.pid}), SSH forward 127.0.0.1:${sshPort}, console ${s.consoleLog}`);
    const q = qemu;
    void q.result.then((r) => {
      if (s.ended()) return;
      const last = r.stderr.trim().split("\n").pop()?.trim();
      s.qemuExited = `QEMU exited early (${r.signal ?? `exit ${r.exitCode}`})${last ? `: ${last}` : ""}`;
      s.end(s.qemuExited);
    });
    tail.start();

    const target: SshTarget = { ssh: p.tools.ssh, port: sshPort, user: p.expectations.user, key: key.key };
    if (p.mode === "console") await waitForLoginPrompt(s);
    else await loginAndAsk(p, s, target);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    s.end("finished");
    if (qemu) {
      const r = await qemu.stop();
      if (!s.qemuExited && r.exitCode !== null && !r.stopped) s.qemuExited = `QEMU exited (${r.exitCode})`;
    }
    await tail.stop();
    s.watch.end();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    s.say(`ended after ${s.seconds().toFixed(0)} s: ${s.endReason}`);
  }
}

async function waitForLoginPrompt(s: BootSession): Promise<void> {
  s.ssh = { ok: false, failure: "not-tried", message: "console-only boot" };
  let nextNote = 30;
  while (!s.ended()) {
    if (s.milestones["login-prompt"] !== undefined) {
      s.end("login prompt reached");
      return;
    }
    if (s.remainingMs() <= 0) {
      s.end("the time budget ran out before a login prompt");
      return;
    }
    if (s.seconds() >= nextNote) {
      s.say(`${s.seconds().toFixed(0)} s, waiting for a login prompt`);
      nextNote += 30;
    }
    await s.wake.wait(Math.min(1000, Math.max(1, s.remainingMs())));
  }
}

/** Log in (retrying until the outcome is certain), ask stage one, wait for cloud-init, ask stage two. */
async function loginAndAsk(p: Plan, s: BootSession, target: SshTarget): Promise<void> {
  const grace = p.sshGraceMs;
  let last: SshOutcome = s.ssh;
  let nextNote = 30;
  while (!s.ended()) {
    if (s.remainingMs() <= 0) {
      s.ssh = {
        ok: false,
        failure: "deadline",
        message: `no login within the ${p.timeoutSeconds} s budget (last: ${describe(last)})`,
      };
      s.end("the time budget ran out before an SSH login");
      return;
    }
    const attempt = await trySsh(target, Math.min(30_000, s.remainingMs()), s.abort.signal);
    if (s.ended()) break;
    if (attempt.ok) {
      s.ssh = { ok: true, seconds: s.seconds() };
      s.say(`SSH login as ${target.user} after ${s.ssh.seconds.toFixed(0)} s`);
      break;
    }
    last = { ok: false, failure: attempt.failure, message: attempt.message };
    s.ssh = last;
    const certain = p.keepGoing ? [] : certainFailures(s.toRun(), p, ["boot-ssh", "login-prompt"]);
    if (certain.length > 0) {
      s.end(`outcome certain before an SSH login: ${certain.join(", ")} failed`);
      break;
    }
    // Certain: cloud-init finished (or the guest sits at its login prompt) and SSH still fails. Not on a
    // timeout: the guest accepted the connection (with nothing listening, QEMU's forward resets it), so
    // sshd is there, only slow (a loaded machine under TCG): the budget decides then.
    const settledAt = s.cloudInitDone ?? s.milestones["login-prompt"];
    if (
      settledAt !== undefined &&
      attempt.failure !== "timeout" &&
      (s.seconds() - settledAt) * 1000 > grace
    ) {
      const what = s.cloudInitDone !== undefined ? "cloud-init finished" : "the login prompt appeared";
      s.ssh = {
        ok: false,
        failure: attempt.failure,
        message: `${attempt.message} (still ${(grace / 1000).toFixed(0)} s after ${what})`,
      };
      s.end(`outcome certain: no SSH login ${(grace / 1000).toFixed(0)} s after ${what}`);
      return;
    }
    if (s.seconds() >= nextNote) {
      s.say(`${s.seconds().toFixed(0)} s, waiting for SSH (${describe(last)})`);
      nextNote += 30;
    }
    await s.wake.wait(3000);
  }
  if (!s.ssh.ok) {
    if (s.qemuExited) s.ssh = { ok: false, failure: "qemu-exited", message: s.qemuExited };
    else if (s.endReason && s.endReason !== "finished")
      s.ssh = { ok: false, failure: "stopped", message: `the boot ended first: ${s.endReason}` };
    return;
  }

  const ask = async (script: string, timeoutMs: number): Promise<Sections | undefined> => {
    const r = await runRemoteScript(target, script, Math.max(1000, timeoutMs), s.abort.signal);
    const sections = parseSections(r.stdout);
    if (Object.keys(sections).length === 0 && !s.ended()) {
      s.say(`the guest gave no answer (ssh exit ${r.code}): ${r.stderr.trim().split("\n").pop() ?? ""}`);
    }
    return Object.keys(sections).length > 0 ? sections : undefined;
  };

  if (s.index > 1) {
    s.stageOne = await ask(identityScript(), Math.min(120_000, s.remainingMs()));
    s.end("identity read");
    return;
  }
  s.stageOne = await ask(
    stageOneScript({
      releasePackage: p.expectations.releasePackage,
      requiredPackages: requiredPackageNames(p.expectations.requiredPackages),
    }),
    Math.min(180_000, s.remainingMs()),
  );
  if (s.ended()) return;
  if (!p.keepGoing) {
    const failed = certainFailures(s.toRun(), p);
    if (failed.length > 0) {
      s.end(`outcome certain at the first login: ${failed.join(", ")} failed`);
      return;
    }
  }
  s.say("waiting for cloud-init to finish");
  const askedAt = s.seconds();
  s.stageTwo = await ask(stageTwoScript(s.remainingMs() / 1000), s.remainingMs());
  if (s.stageTwo) s.cloudInitDone ??= s.seconds();
  else if (!s.ended())
    s.end(`the guest gave no answers ${(s.seconds() - askedAt).toFixed(0)} s after the first login`);
  if (s.stageTwo?.["cloud-init"]) s.say(`cloud-init done (asked) after ${s.seconds().toFixed(0)} s`);
  s.end("every check asked");
}

function describe(o: SshOutcome): string {
  return o.ok ? "logged in" : `${o.failure}: ${o.message}`;
}

/** After an interrupt: the boot was ended and cleaned up; say so and stop. */
function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason = signal.reason;
  const name: NodeJS.Signals = reason instanceof InterruptedError ? reason.signal : "SIGTERM";
  throw new InterruptedError(
    name,
    `boot test interrupted by ${name}: QEMU stopped, its overlay, seed and server removed`,
  );
}

/** Checks that already failed from what one boot showed so far (except those still being waited for). */
function certainFailures(run: BootRun, p: Plan, pending: readonly string[] = []): string[] {
  return runBootChecks([run], p.expectations)
    .filter((c: CheckResult) => c.status === "fail" && !pending.includes(c.name))
    .map((c) => c.name);
}
