/**
 * The realistic test guest: a Debian 12 system (real systemd, cloud-init, OpenSSH, SELinux enforcing)
 * made AlmaLinux-like where the checks look (release files, an rpm database with the GenericCloud package
 * set, AlmaLinux-named kernel files and BLS entry), on a GPT disk in the AlmaLinux x86_64 layout that
 * boots under OVMF. Built from the mirror in this machine's apt configuration with mmdebstrap, as root,
 * and cached under .cache/guests/ (key: this directory's source, the recipe included).
 */
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cached } from "../imagegen/cache.js";
import { requireRoot, requireTools, run } from "../imagegen/exec.js";
import { buildRpms, installRpms } from "../imagegen/rpmdb.js";
import { builderSourceHash, normalizeSpec } from "../imagegen/spec.js";
import { assembleDisk, type GuestDisk } from "./disk.js";
import { aptSources, guestMirrorLines } from "./mirror.js";
import { guestTree, treeKey } from "./tree.js";

/** The leg the guest stands for. */
export const GUEST_LEG = { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" } as const;

const GUESTGEN_DIR = fileURLToPath(new URL("./", import.meta.url));
export const DEFAULT_GUEST_CACHE = fileURLToPath(new URL("../.cache/guests/", import.meta.url));
const MARKER = "built.json";

export interface BuiltGuest extends GuestDisk {
  /** The cache directory. */
  readonly dir: string;
  /** The sparse raw disk (never modify it: copy it, or boot it through an overlay). */
  readonly raw: string;
  readonly leg: typeof GUEST_LEG;
  /** Installed package names in the rpm database, `LC_ALL=C` sorted (rpm -qa). */
  readonly packageNames: readonly string[];
  readonly buildSeconds: number;
  readonly stepSeconds: Readonly<Record<string, number>>;
}

export function guestCacheRoot(): string {
  return process.env.GUESTGEN_CACHE || DEFAULT_GUEST_CACHE;
}

/** The disk's cache key: the tree's key, the code that puts the disk together, and imagegen's source. */
export function guestKey(): string {
  const h = createHash("sha256").update(treeKey());
  for (const file of ["index.ts", "disk.ts", "loop.ts"])
    h.update(file).update(readFileSync(join(GUESTGEN_DIR, file)));
  h.update(builderSourceHash());
  return h.digest("hex");
}

const inFlight = new Map<string, Promise<BuiltGuest>>();

/** Builds (or finds in the cache) the guest. */
export function buildGuest(options: { log?: (line: string) => void } = {}): Promise<BuiltGuest> {
  const key = guestKey();
  let p = inFlight.get(key);
  if (!p) {
    p = cached(
      key,
      async (tmp) => {
        await build(tmp, options.log ?? (() => {}));
        pruneOldGuests(guestCacheRoot(), [key, treeKey()]);
      },
      guestCacheRoot(),
    ).then(load);
    inFlight.set(key, p);
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

/** Entries left alone this long after they were made, in case a running test still boots them. */
const PRUNE_AFTER_MS = 10 * 60 * 1000;

/** Removes complete entries made by other guestgen source (a disk is 1.5 GiB, a tree 0.6 GiB). */
function pruneOldGuests(root: string, current: readonly string[]): void {
  for (const name of readdirSync(root)) {
    if (current.includes(name) || !/^(tree-)?[0-9a-f]{64}$/.test(name)) continue;
    try {
      if (Date.now() - statSync(join(root, name, MARKER)).mtimeMs < PRUNE_AFTER_MS) continue;
    } catch {
      continue; // incomplete: another builder's business
    }
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

function load(dir: string): BuiltGuest {
  const stored = JSON.parse(readFileSync(join(dir, MARKER), "utf8")) as Omit<BuiltGuest, "dir" | "raw">;
  return { ...stored, dir, raw: join(dir, "disk.raw") };
}

/** Thousands of small files: staged in RAM when there is room (the disk here is slow when busy). */
function stagingRoot(): string {
  if (process.env.GUESTGEN_TMPDIR) return process.env.GUESTGEN_TMPDIR;
  try {
    const st = statfsSync("/dev/shm");
    accessSync("/dev/shm", constants.W_OK);
    if (st.bavail * st.bsize > 6 * 2 ** 30) return "/dev/shm";
  } catch {
    // no usable /dev/shm
  }
  return tmpdir();
}

const TOOLS = [
  "mmdebstrap",
  "sgdisk",
  "mkfs.fat",
  "mcopy",
  "mkfs.xfs",
  "losetup",
  "mount",
  "umount",
  "rpm",
  "rpmbuild",
];

async function build(out: string, log: (line: string) => void): Promise<void> {
  requireRoot();
  requireTools(TOOLS);
  const started = Date.now();
  const steps: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    log(`guestgen: ${name}…`);
    const r = await fn();
    steps[name] = (Date.now() - t) / 1000;
    log(`guestgen: ${name} ${steps[name]!.toFixed(1)} s`);
    return r;
  };
  const mirrors = guestMirrorLines(aptSources());
  const work = mkdtempSync(join(stagingRoot(), `guestgen-${process.pid}-`));
  try {
    const tarball = await guestTree(guestCacheRoot(), mirrors, work, log);
    const tree = join(work, "root");
    mkdirSync(tree);
    await step("unpack", () => run("tar", ["-C", tree, "--numeric-owner", "-xpf", tarball]));
    const spec = normalizeSpec({
      arch: GUEST_LEG.arch,
      el: "9",
      release: GUEST_LEG.release,
      rootfs: "xfs",
      formats: ["raw"],
      packages: "realistic",
    });
    // the release package brings AlmaLinux's os-release: Debian's must make room (imagegen leaves out of
    // its packages whatever the tree already holds)
    for (const path of ["etc/os-release", "usr/lib/os-release"]) rmSync(join(tree, path), { force: true });
    const rpms = await step("rpmbuild", () => buildRpms(spec, work, tree));
    // Debian's files are the real ones: the packages go into the database only, except the release
    // package, whose files make the system AlmaLinux-like
    const release = (rpm: string) => basename(rpm).startsWith("almalinux-release-");
    await step("rpm-install", () => installRpms(spec, tree, rpms, work, (rpm) => !release(rpm)));
    const db = ["--dbpath", join(tree, "var/lib/rpm")];
    const names = await run("rpm", [...db, "-qa", "--qf", "%{NAME}\\n"]);
    const kernel = await run("rpm", [...db, "-q", "--qf", "%{VERSION}-%{RELEASE}.%{ARCH}", "kernel-core"]);
    rmSync(join(tree, "var/lib/rpm/.rpm.lock"), { force: true });
    const disk = await step("disk", () =>
      assembleDisk(tree, join(out, "disk.raw"), kernel.stdout.trim(), work),
    );
    const stored: Omit<BuiltGuest, "dir" | "raw"> = {
      ...disk,
      leg: GUEST_LEG,
      packageNames: names.stdout
        .split("\n")
        .filter(Boolean)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      buildSeconds: (Date.now() - started) / 1000,
      stepSeconds: steps,
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, MARKER), `${JSON.stringify(stored, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
