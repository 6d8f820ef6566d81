/**
 * The seed's verification method, kept for parity (`verify --backend nbd`): the nbd kernel module,
 * a free /dev/nbdN (never assumed to be nbd0: two legs may run at once), `qemu-nbd --read-only`, a
 * read-only mount of the root partition, the host's `rpm --dbpath`. Root only; everything it sets up
 * is torn down again, whatever happens.
 */
import { constants } from "node:fs";
import { access, cp, lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, posix } from "node:path";
import { detectContainer } from "../disk/image.js";
import { CloudImagesError, EnvironmentError, ImageFormatError } from "../errors.js";
import { detectFilesystem, PROBE_BYTES } from "../fs/probe.js";
import { runChild } from "../process/children.js";
import { RPMDB_FILES } from "../rpm/rpmdb/index.js";
import {
  BUILD_STAMP_FILE,
  type Observations,
  type Observed,
  type ObservedPackages,
  type ObservedRoot,
  OS_RELEASE_FILE,
  RELEASE_FILE,
  type ReleasePackageInstance,
} from "./checks.js";
import { RPMDB_PATHS } from "./rpmdb.js";

const SYSTEM_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
const PARTITION_WAIT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 120_000;

export interface NbdOptions {
  readonly rootPartition: number;
  readonly releasePackage: string;
}

interface Tools {
  readonly qemuNbd: string;
  readonly rpm: string;
  readonly modprobe: string | undefined;
  readonly mount: string;
  readonly umount: string;
}

/** First executable `name` on PATH (plus the system directories when `system`). */
export async function findExecutable(name: string, system = false): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of system ? [...dirs, ...SYSTEM_DIRS] : dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The preconditions, in the order a user would fix them; each a one-line EnvironmentError. */
export async function requireNbdEnvironment(): Promise<Tools> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError(
      "--backend nbd needs root (it loads the nbd module, attaches the image and mounts it); run as root or use --backend native",
    );
  }
  const qemuNbd = await findExecutable("qemu-nbd");
  if (!qemuNbd)
    throw new EnvironmentError(
      "--backend nbd needs qemu-nbd on PATH (Debian/Ubuntu: apt-get install qemu-utils)",
    );
  const rpm = await findExecutable("rpm");
  if (!rpm)
    throw new EnvironmentError("--backend nbd needs rpm on PATH (Debian/Ubuntu: apt-get install rpm)");
  const mount = await findExecutable("mount", true);
  const umount = await findExecutable("umount", true);
  if (!mount || !umount) throw new EnvironmentError("--backend nbd needs mount and umount");
  const modprobe = await findExecutable("modprobe", true);
  return { qemuNbd, rpm, modprobe, mount, umount };
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; a command that cannot start, times out or dies of a signal is code -1. */
async function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  try {
    const r = await runChild(cmd, args, { env, timeoutMs: COMMAND_TIMEOUT_MS });
    const how = r.timedOut ? `timed out after ${COMMAND_TIMEOUT_MS / 1000} s` : `killed by ${r.signal}`;
    return r.exitCode === null || r.timedOut
      ? { code: -1, stdout: r.stdout, stderr: r.stderr || how }
      : { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { code: -1, stdout: "", stderr: (e as Error).message };
  }
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? ""
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Loads the nbd module (partitions enabled) unless it is there already. */
async function loadNbdModule(tools: Tools): Promise<void> {
  if (await exists("/sys/module/nbd")) return;
  const r = tools.modprobe
    ? await run(tools.modprobe, ["nbd", "max_part=16"])
    : { code: -1, stdout: "", stderr: "modprobe not found" };
  if (r.code !== 0 || !(await exists("/sys/module/nbd"))) {
    const why = firstLine(r.stderr) || `modprobe exited with ${r.code}`;
    throw new EnvironmentError(
      `the nbd kernel module is not available (modprobe nbd: ${why}); use --backend native`,
    );
  }
}

/** nbd devices not connected to anything, in number order. */
async function freeNbdDevices(): Promise<string[]> {
  const names = (await readdir("/sys/block").catch(() => [] as string[]))
    .filter((n) => /^nbd[0-9]+$/.test(n))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  const free: string[] = [];
  for (const n of names) {
    if (await exists(`/sys/block/${n}/pid`)) continue;
    const size = (await readFile(`/sys/block/${n}/size`, "utf8").catch(() => "0")).trim();
    if (size === "0") free.push(`/dev/${n}`);
  }
  return free;
}

/** Attaches the image read-only to the first nbd device that accepts it (another leg may race us). */
async function connect(tools: Tools, image: string, format: string): Promise<string> {
  const tried: string[] = [];
  for (const dev of await freeNbdDevices()) {
    const r = await run(tools.qemuNbd, ["--read-only", `--format=${format}`, `--connect=${dev}`, image]);
    if (r.code === 0) return dev;
    tried.push(`${dev}: ${firstLine(r.stderr)}`);
  }
  throw new EnvironmentError(
    tried.length === 0
      ? "no free /dev/nbdN device"
      : `qemu-nbd could not attach ${image} (${tried.join("; ")})`,
  );
}

async function waitForPartition(dev: string, n: number): Promise<string> {
  const part = `${dev}p${n}`;
  const start = Date.now();
  let rescanned = false;
  while (Date.now() - start < PARTITION_WAIT_MS) {
    if (await exists(part)) return part;
    // the kernel normally scans the table itself; ask partx once if it has not after 2 s
    if (!rescanned && Date.now() - start > 2000) {
      rescanned = true;
      const partx = await findExecutable("partx", true);
      if (partx) await run(partx, ["-a", dev]);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ImageFormatError(`partition ${n} did not appear as ${part} (does the image have it?)`);
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A path inside the mounted tree with symlinks resolved against the mount point (absolute targets
 * too), never escaping it; the kernel's limit of 40 links.
 */
export async function resolveInside(root: string, path: string): Promise<string> {
  let pending = path.split("/").filter((c) => c !== "" && c !== ".");
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === "..") {
      done.pop();
      continue;
    }
    const here = join(root, ...done, name);
    const st = await lstat(here);
    if (st.isSymbolicLink()) {
      if (++links > 40) throw new ImageFormatError(`too many levels of symbolic links at ${path}`);
      const target = await readlink(here);
      if (target.startsWith("/")) done.length = 0;
      pending = [...target.split("/").filter((c) => c !== "" && c !== "."), ...pending];
      continue;
    }
    done.push(name);
  }
  return join(root, ...done);
}

async function observe<T>(read: () => Promise<T>): Promise<Observed<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (e) {
    if (e instanceof CloudImagesError) return { ok: false, error: e.message };
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file or directory" : (err.code ?? err.message);
    return { ok: false, error: why };
  }
}

const BACKENDS: Record<string, string> = {
  [RPMDB_FILES.sqlite]: "sqlite",
  [RPMDB_FILES.ndb]: "ndb",
  [RPMDB_FILES.bdb]: "bdb_ro",
};

/** `rpm --dbpath` on a copy of the image's database (sqlite cannot open a database on a read-only mount). */
async function queryPackages(rpm: string, mnt: string, work: string, pkg: string): Promise<ObservedPackages> {
  for (const candidate of RPMDB_PATHS) {
    const dir = await resolveInside(mnt, candidate).catch(() => undefined);
    if (!dir) continue;
    const names = await readdir(dir).catch(() => [] as string[]);
    const file = Object.keys(BACKENDS).find((f) => names.includes(f));
    if (!file) continue;
    const copy = join(work, "rpmdb");
    await cp(dir, copy, { recursive: true, dereference: true });
    const base = ["--dbpath", copy, "--define", `_db_backend ${BACKENDS[file]}`];
    const env = { ...process.env, LC_ALL: "C" };
    const all = await run(rpm, [...base, "-qa", "--qf", "%{NAME}\\n"], env);
    if (all.code !== 0) throw new ImageFormatError(`rpm -qa failed: ${firstLine(all.stderr)}`);
    const q = await run(rpm, [...base, "-q", "--qf", "%{ARCH}\\t%{NEVRA}\\n", pkg], env);
    const releasePackage: ReleasePackageInstance[] =
      q.code === 0
        ? q.stdout
            .split("\n")
            .filter((l) => l.includes("\t"))
            .map((l) => {
              const [arch, nevra] = l.split("\t") as [string, string];
              return { arch: arch === "(none)" ? null : arch, nevra };
            })
        : [];
    return {
      format: BACKENDS[file]!.replace("_ro", ""),
      dbPath: posix.join("/", dir.slice(mnt.length)),
      names: all.stdout.split("\n").filter((l) => l !== ""),
      releasePackage,
    };
  }
  throw new ImageFormatError(`no rpm database in the image (looked in ${RPMDB_PATHS.join(", ")})`);
}

/**
 * What verification needs from a root filesystem mounted (or unpacked) at `mnt`: symlinks resolved
 * inside it, the database queried with the host's rpm. `work` is a scratch directory.
 */
export async function observeMountedTree(
  mnt: string,
  work: string,
  root: ObservedRoot,
  releasePackage: string,
  rpm = "rpm",
): Promise<Observations> {
  const readText = async (p: string) => readFile(await resolveInside(mnt, p), "utf8");
  return {
    root,
    releaseFile: await observe(() => readText(RELEASE_FILE)),
    osRelease: await observe(() => readText(OS_RELEASE_FILE)),
    buildStamp: await observe(() => readText(BUILD_STAMP_FILE)),
    packages: await observe(() => queryPackages(rpm, mnt, work, releasePackage)),
  };
}

/** Reads what verification needs through qemu-nbd and a kernel mount, then tears it all down. */
export async function observeWithNbd(image: string, options: NbdOptions): Promise<Observations> {
  const tools = await requireNbdEnvironment();
  const format = detectContainer(await readHead(image, 512).catch(() => Buffer.alloc(0)), image);
  await loadNbdModule(tools);
  const work = await mkdtemp(join(tmpdir(), "cloud-images-nbd-"));
  const mnt = join(work, "mnt");
  await mkdir(mnt);
  let dev: string | undefined;
  let mounted = false;
  try {
    dev = await connect(tools, image, format);
    const part = await waitForPartition(dev, options.rootPartition);
    const fs = detectFilesystem(await readHead(part, PROBE_BYTES));
    const mountOptions = fs === "xfs" ? ["-t", "xfs", "-o", "ro,norecovery"] : ["-o", "ro"];
    const m = await run(tools.mount, [...mountOptions, part, mnt]);
    if (m.code !== 0) throw new EnvironmentError(`mount ${part} failed: ${firstLine(m.stderr)}`);
    mounted = true;
    const root: ObservedRoot = { partition: options.rootPartition, filesystem: fs, foundBy: "expected" };
    return await observeMountedTree(mnt, work, root, options.releasePackage, tools.rpm);
  } finally {
    const unmounted = !mounted || (await run(tools.umount, [mnt])).code === 0;
    if (dev) await run(tools.qemuNbd, ["--disconnect", dev]);
    // never recurse into a tree that is still mounted
    if (unmounted) await rm(work, { recursive: true, force: true });
  }
}
