/**
 * Real RPMs and a real rpm database: payload files are staged, specs are generated (the packages of an
 * arch as subpackages of a few specs: a few rpmbuild runs), the RPMs are signed, Debian's rpm installs
 * them into the tree, and Debian's rpm, queried afterwards, is the oracle for what the database holds.
 */
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { EnvironmentError } from "../src/errors.js";
import { convertToBdb } from "./bdb.js";
import { run } from "./exec.js";
import { writeFiller } from "./filler.js";
import { type PlannedPackage, plannedPackages, releasePackage } from "./packages.js";
import { between, type PackageFile, packageContent, pick, prose, seeded } from "./payload.js";
import { distTag, osReleaseContent, releaseFileContent, systemReleaseCpe } from "./release.js";
import { publicKeyArmor, signingKey, signRpms } from "./rpmsign.js";
import { type ChangelogEntry, licenseFor, type SpecPackage, specText } from "./rpmspec.js";
import type { NormalizedSpec } from "./spec.js";

/** Fixed build time, so rebuilt packages carry the same BUILDTIME. */
const SOURCE_DATE_EPOCH = 1735689600;

/** When the packages were signed (an hour after they were built). */
const SIGNED_AT = SOURCE_DATE_EPOCH + 3600;

/** Packages per spec (one rpmbuild run each): each spec has its own changelog, as source packages do. */
const GROUP_SIZE = 48;

function evrOf(p: PlannedPackage): string {
  return `${p.epoch !== null ? `${p.epoch}:` : ""}${p.version}-${p.release}`;
}

const plainFile = (path: string, content: string): PackageFile => ({
  path,
  type: "file",
  mode: 0o644,
  user: "root",
  group: "root",
  content: Buffer.from(content),
});

const link = (path: string, target: string): PackageFile => ({
  path,
  type: "symlink",
  mode: 0o777,
  user: "root",
  group: "root",
  target,
});

/** The release package: release file, its compatibility symlinks, os-release, license. */
function releaseSpecPackage(spec: NormalizedSpec): SpecPackage {
  const p = releasePackage(spec);
  const files: PackageFile[] = [];
  const release = releaseFileContent(spec);
  if (release !== null) files.push(plainFile("/etc/almalinux-release", release));
  for (const l of ["redhat-release", "system-release"]) files.push(link(`/etc/${l}`, "almalinux-release"));
  files.push(plainFile("/etc/system-release-cpe", systemReleaseCpe(spec.el)));
  const osRelease = osReleaseContent(spec);
  if (osRelease !== null) {
    files.push(plainFile("/usr/lib/os-release", osRelease));
    files.push(link("/etc/os-release", "../usr/lib/os-release"));
  }
  files.push({ ...plainFile(`/usr/share/licenses/${p.name}/LICENSE`, "MIT License\n"), attr: "license" });
  const r = seeded(`content:${p.name}`);
  return {
    ...p,
    summary: "AlmaLinux release files",
    license: "MIT",
    description: prose(r, 3),
    files,
    requires: [],
    recommends: [],
    provides: ["system-release", `system-release(releasever) = ${spec.release.split(".")[0]}`],
    scripts: {},
  };
}

/** An ordinary package, with the content payload.ts gives it. */
function ordinarySpecPackage(p: PlannedPackage, all: readonly PlannedPackage[]): SpecPackage {
  return {
    ...p,
    ...packageContent(p, evrOf(p), all),
    summary: `${p.name} (imagegen test package)`,
    license: licenseFor(p.name),
  };
}

/** A changelog of a few to a few dozen entries, newest first, all before the build time. */
function changelogFor(seed: string, main: PlannedPackage): ChangelogEntry[] {
  const r = seeded(`changelog:${seed}`);
  const first = ["Alex", "Andrew", "Eduard", "Elkhan", "Jonathan", "Neal", "Cory", "Sofia", "Yuriy", "Maria"];
  const last = ["Abramov", "Lukoshko", "Mammadli", "Wright", "Gamble", "Kovalenko", "Jensen", "Silva"];
  const out: ChangelogEntry[] = [];
  let time = SOURCE_DATE_EPOCH - 86400 * between(r, 1, 30);
  for (let i = between(r, 4, 40); i > 0; i--) {
    const who = `${pick(r, first)} ${pick(r, last)}`;
    const mail = who.toLowerCase().replace(" ", ".");
    const version = `${main.version}-${Math.max(1, i)}`;
    const lines = Array.from({ length: between(r, 1, 4) }, () => {
      const ticket = r() < 0.6 ? ` (RHEL-${between(r, 1000, 99999)})` : "";
      return `- ${prose(r, 1)}${ticket}`;
    });
    out.push({ time, author: `${who} <${mail}@almalinux.org> - ${version}`, text: lines.join("\n") });
    time -= 86400 * between(r, 3, 90);
  }
  return out;
}

/**
 * Writes each package's files into `payload`, leaving out paths the image tree already has (rpm would
 * replace them) and paths an earlier package took (rpm would refuse the conflict).
 */
function stagePayload(packages: SpecPackage[], payload: string, tree: string, taken: Set<string>): void {
  const seen = new Map<string, "dir" | "other" | "none">();
  const inTree = (path: string) => {
    let kind = seen.get(path);
    if (kind === undefined) {
      try {
        kind = lstatSync(join(tree, path)).isDirectory() ? "dir" : "other";
      } catch {
        kind = "none";
      }
      seen.set(path, kind);
    }
    return kind;
  };
  // A path is free when the tree does not have it and none of its parents is a file or symlink there.
  const free = (path: string) => {
    if (taken.has(path) || inTree(path) !== "none") return false;
    for (let i = path.indexOf("/", 1); i > 0; i = path.indexOf("/", i + 1)) {
      if (inTree(path.slice(0, i)) === "other") return false;
    }
    return true;
  };
  for (const p of packages) {
    p.files = p.files.filter((f) => free(f.path));
    for (const f of p.files) {
      taken.add(f.path);
      if (f.staged) continue;
      const at = join(payload, f.path);
      if (f.type === "dir") {
        mkdirSync(at, { recursive: true });
        continue;
      }
      mkdirSync(dirname(at), { recursive: true });
      if (f.type === "symlink") symlinkSync(f.target!, at);
      else {
        writeFileSync(at, f.content ?? "");
        chmodSync(at, f.type === "file" && f.mode & 0o111 ? 0o755 : 0o644);
      }
    }
  }
}

interface SpecGroup {
  target: string;
  packages: SpecPackage[];
}

/** Packages grouped by rpmbuild target and in specs of GROUP_SIZE; each spec's main package is an arch one when there is one. */
function specGroups(spec: NormalizedSpec): SpecGroup[] {
  const release = releaseSpecPackage(spec);
  const planned = plannedPackages(spec);
  const others = planned.map((p) => ordinarySpecPackage(p, planned));
  const groups: SpecGroup[] = [];
  const rest = [...others];
  if (spec.releasePackageArch === spec.arch) rest.unshift(release);
  else groups.push({ target: spec.releasePackageArch, packages: [release] });
  // packages of another arch (a package-arch defect) get a spec of their own per target
  const foreign = new Map<string, SpecPackage[]>();
  for (const p of rest.filter((x) => spec.packageArches[x.name] !== undefined)) {
    const target = spec.packageArches[p.name]!;
    foreign.set(target, [...(foreign.get(target) ?? []), { ...p, noarch: false }]);
  }
  const native = rest.filter((x) => spec.packageArches[x.name] === undefined);
  for (let i = 0; i < native.length; i += GROUP_SIZE) {
    const pkgs = native.slice(i, i + GROUP_SIZE);
    const main = pkgs.findIndex((p) => !p.noarch);
    if (main > 0) pkgs.unshift(...pkgs.splice(main, 1));
    groups.push({ target: spec.arch, packages: pkgs });
  }
  for (const [target, packages] of foreign) groups.push({ target, packages });
  return groups;
}

function listRpms(dir: string): string[] {
  const out: string[] = [];
  for (const sub of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, sub))) if (f.endsWith(".rpm")) out.push(join(dir, sub, f));
  }
  return out.sort();
}

/**
 * rpmbuild classifies every packaged file with libmagic and loads the whole magic database once per
 * package: ~30 ms each, most of a 400-package build. A small magic file (via $MAGIC) makes that
 * nothing, and still gives the file classes (CLASSDICT) the shape of real ones. Nothing in it matches
 * rpm's ELF rule, so no dependency generator parses the stand-in binaries.
 */
const TINY_MAGIC = [
  "0\tstring\t\\x7fELF\tELF",
  "0\tstring\t#!\tPOSIX shell script, ASCII text executable",
  "0\tstring\t\\x7fIMG\tx86-64 shared object stand-in, dynamically linked, stripped",
  "0\tstring\t\\x1f\\x8b\tgzip compressed data, max compression, from Unix",
  "0\tstring\t\\xde\\x12\\x04\\x95\tGNU message catalog (little endian), revision 0.0",
  "",
].join("\n");

/**
 * The filler as a package's files (fillerOwned): the blobs are written straight into that package's
 * payload directory, so rpm installs them and the rpm database records their digests.
 */
function fillerPackage(spec: NormalizedSpec, work: string, index: number): SpecPackage {
  const payload = join(work, `payload-${index}`);
  const blobs = writeFiller(payload, spec.fillerMiB);
  const files: PackageFile[] = [
    { path: "/usr/lib/filler", type: "dir", mode: 0o755, user: "root", group: "root" },
  ];
  for (let i = 0; i < blobs; i++) {
    const path = `/usr/lib/filler/blob.${String(i).padStart(3, "0")}`;
    files.push({ path, type: "file", mode: 0o644, user: "root", group: "root", staged: true });
  }
  return {
    name: "imagegen-filler",
    epoch: null,
    version: "1.0",
    release: `1.${distTag(spec.el)}`,
    noarch: true,
    summary: "Bulk data for big test images",
    license: "MIT",
    description: "Host files concatenated into blobs, so an image has real-looking data to read.",
    files,
    requires: [],
    recommends: [],
    provides: [],
    scripts: {},
  };
}

/**
 * Builds every package of the image and signs them (RSA, imagegen's key); returns the .rpm
 * files. `tree` is the staged root: paths it already holds are left out of the packages.
 */
export async function buildRpms(spec: NormalizedSpec, work: string, tree: string): Promise<string[]> {
  const top = join(work, "rpmbuild");
  const magic = join(work, "tiny.magic");
  writeFileSync(magic, TINY_MAGIC);
  for (const d of ["SPECS", "RPMS", "BUILD", "BUILDROOT", "SRPMS", "SOURCES"])
    mkdirSync(join(top, d), { recursive: true });
  const taken = new Set<string>();
  const specs: string[] = [];
  const groups = specGroups(spec);
  if (spec.fillerOwned && spec.fillerMiB > 0)
    groups.push({ target: "noarch", packages: [fillerPackage(spec, work, groups.length)] });
  for (const [i, g] of groups.entries()) {
    const payload = join(work, `payload-${i}`);
    mkdirSync(payload, { recursive: true });
    stagePayload(g.packages, payload, tree, taken);
    const specFile = join(top, "SPECS", `image-${i}.spec`);
    const main = g.packages[0]!;
    const changelog = changelogFor(`${spec.el}/${i}/${main.name}`, main);
    writeFileSync(specFile, specText(main, g.packages.slice(1), payload, changelog));
    specs.push(specFile);
  }
  const rpmbuild = (specFile: string, target: string) =>
    run(
      "rpmbuild",
      [
        "-bb",
        "--quiet",
        "--target",
        target,
        "--define",
        `_topdir ${top}`,
        "--define",
        "_binary_payload w1.gzdio",
        "--define",
        "__os_install_post %{nil}",
        "--define",
        "debug_package %{nil}",
        "--define",
        "_build_id_links none",
        "--define",
        "_buildhost imagegen.almalinux.test",
        "--define",
        "use_source_date_epoch_as_buildtime 1",
        "--define",
        "clamp_mtime_to_source_date_epoch 1",
        specFile,
      ],
      // passive OpenMP threads: rpmbuild packages in parallel, and spinning threads hurt on busy machines
      {
        env: {
          HOME: work,
          SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH),
          MAGIC: magic,
          OMP_WAIT_POLICY: "passive",
        },
      },
    );
  // two rpmbuild runs at a time: most of each is single-threaded
  const queue = specs.map((file, i) => ({ file, target: groups[i]!.target }));
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await rpmbuild(job.file, job.target);
  };
  await Promise.all([worker(), worker()]);
  for (let i = 0; i < specs.length; i++) rmSync(join(work, `payload-${i}`), { recursive: true, force: true });
  const rpms = listRpms(join(top, "RPMS"));
  await signRpms(rpms, SIGNED_AT);
  return rpms;
}

/**
 * rpm --root TREE installs the packages (chroot: needs root) and imports the signing key, then the
 * database is tidied as in an image.
 */
export async function installRpms(
  spec: NormalizedSpec,
  tree: string,
  rpms: readonly string[],
  work: string,
  /** Packages recorded in the database only (`rpm --justdb`): their files are not written to the tree. */
  justDb: (rpm: string) => boolean = () => false,
): Promise<void> {
  const install = (files: readonly string[], ...extra: string[]) =>
    files.length === 0
      ? Promise.resolve()
      : run("rpm", [
          "--root",
          tree,
          "--dbpath",
          spec.rpmdbPath,
          "--define",
          "_db_backend sqlite",
          "-i",
          "--nodeps",
          "--ignorearch",
          "--noscripts",
          "--nosignature",
          ...extra,
          ...files,
        ]);
  await install(rpms.filter((r) => !justDb(r)));
  await install(rpms.filter(justDb), "--justdb");
  // The signing key, as AlmaLinux's is in every image: a gpg-pubkey pseudo-package (no ARCH).
  const keyFile = join(work, "imagegen-key.asc");
  writeFileSync(keyFile, await publicKeyArmor(signingKey()));
  await run("rpm", [
    "--root",
    tree,
    "--dbpath",
    spec.rpmdbPath,
    "--define",
    "_db_backend sqlite",
    "--import",
    keyFile,
  ]);
  const db = join(tree, spec.rpmdbPath);
  rmSync(join(db, ".rpm.lock"), { force: true });
  rmSync(join(db, "rpmdb.sqlite-shm"), { force: true });
  const wal = join(db, "rpmdb.sqlite-wal");
  let walSize = 0;
  try {
    walSize = statSync(wal).size;
  } catch {
    // no WAL file: fully checkpointed
  }
  if (walSize > 0)
    throw new EnvironmentError(`imagegen: rpm left ${walSize} bytes in ${wal} (not checkpointed)`);
  rmSync(wal, { force: true });
  if (spec.el === "8") convertToBdb(db);
}

export interface DbFacts {
  packageNames: string[];
  packagesNevra: string[];
  releasePackageArch: string;
}

async function sortC(lines: string): Promise<string[]> {
  const { stdout } = await run("sort", [], { env: { LC_ALL: "C" }, input: lines });
  return stdout.split("\n").filter((l) => l !== "");
}

/** Asks Debian's rpm about a copy of the database (queries may create files next to it). */
export async function queryDb(dbDir: string, backend: "sqlite" | "bdb", releaseName: string, work: string) {
  const copy = join(work, "oracle-db");
  rmSync(copy, { recursive: true, force: true });
  cpSync(dbDir, copy, { recursive: true });
  const base = ["--dbpath", copy, ...(backend === "bdb" ? ["--define", "_db_backend bdb_ro"] : [])];
  const names = await run("rpm", [...base, "-qa", "--qf", "%{NAME}\\n"]);
  const nevra = await run("rpm", [
    ...base,
    "-qa",
    "--qf",
    "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%|ARCH?{%{ARCH}}:{(none)}|\\n",
  ]);
  const arch = await run("rpm", [...base, "-q", "--qf", "%{ARCH}\\n", releaseName]);
  rmSync(copy, { recursive: true, force: true });
  const facts: DbFacts = {
    packageNames: await sortC(names.stdout),
    packagesNevra: await sortC(nevra.stdout),
    releasePackageArch: arch.stdout.trim(),
  };
  return facts;
}
