/**
 * Real RPMs and a real rpm database: payload files are staged, one spec per target arch is generated
 * (all packages of an arch as subpackages of one spec: one rpmbuild run), Debian's rpm installs them into
 * the tree, and Debian's rpm, queried afterwards, is the oracle for what the database holds.
 */
import {
  chmodSync,
  cpSync,
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
import { pseudoRandom } from "./bytes.js";
import { run } from "./exec.js";
import { type PlannedPackage, plannedPackages, releasePackage } from "./packages.js";
import { osReleaseContent, releaseFileContent, systemReleaseCpe } from "./release.js";
import { licenseFor, type SpecPackage, specText } from "./rpmspec.js";
import type { NormalizedSpec } from "./spec.js";

/** Fixed build time, so rebuilt packages carry the same BUILDTIME. */
const SOURCE_DATE_EPOCH = "1735689600";

function put(root: string, path: string, content: string | Buffer): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, 0o644);
}

function putLink(root: string, path: string, target: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  symlinkSync(target, p);
}

/** The release package's payload: release file, its compatibility symlinks, os-release. */
function releasePayload(spec: NormalizedSpec, payload: string): SpecPackage {
  const p = releasePackage(spec);
  const files: string[] = [];
  const release = releaseFileContent(spec);
  if (release !== null) {
    put(payload, "etc/almalinux-release", release);
    files.push("/etc/almalinux-release");
  }
  for (const l of ["redhat-release", "system-release"]) {
    putLink(payload, `etc/${l}`, "almalinux-release");
    files.push(`/etc/${l}`);
  }
  put(payload, "etc/system-release-cpe", systemReleaseCpe(spec.el));
  files.push("/etc/system-release-cpe");
  const osRelease = osReleaseContent(spec);
  if (osRelease !== null) {
    put(payload, "usr/lib/os-release", osRelease);
    putLink(payload, "etc/os-release", "../usr/lib/os-release");
    files.push("/usr/lib/os-release", "/etc/os-release");
  }
  return { ...p, summary: "AlmaLinux release files", license: "MIT", files, dirs: [] };
}

/** An ordinary package's payload: a README, and a small library (arch) or data file (noarch). */
function packagePayload(p: PlannedPackage, payload: string): SpecPackage {
  const doc = `/usr/share/doc/${p.name}`;
  const evr = `${p.epoch !== null ? `${p.epoch}:` : ""}${p.version}-${p.release}`;
  put(payload, `${doc.slice(1)}/README`, `${p.name} ${evr}\nThis is an imagegen test package.\n`);
  const data = p.noarch ? `/usr/share/fixture/${p.name}` : `/usr/lib64/fixture/lib${p.name}.so.1`;
  const size = 512 + (Buffer.from(p.name).reduce((a, b) => a + b, 0) % 8) * 512;
  put(payload, data.slice(1), pseudoRandom(`${p.name}-${evr}`, size));
  return {
    ...p,
    summary: `${p.name} (imagegen test package)`,
    license: licenseFor(p.name),
    files: [`${doc}/README`, data],
    dirs: [doc],
  };
}

interface SpecGroup {
  target: string;
  packages: SpecPackage[];
}

/** Packages grouped by rpmbuild target; the main package of each spec is an arch one when there is one. */
function specGroups(spec: NormalizedSpec, work: string): SpecGroup[] {
  const payloadOf = (i: number) => join(work, `payload-${i}`);
  const release = releasePayload(spec, payloadOf(0));
  const others = plannedPackages(spec);
  if (spec.releasePackageArch === spec.arch) {
    return [
      { target: spec.arch, packages: [release, ...others.map((p) => packagePayload(p, payloadOf(0)))] },
    ];
  }
  const groups: SpecGroup[] = [{ target: spec.releasePackageArch, packages: [release] }];
  if (others.length > 0) {
    const pkgs = others.map((p) => packagePayload(p, payloadOf(1)));
    const main = pkgs.findIndex((p) => !p.noarch);
    if (main > 0) pkgs.unshift(...pkgs.splice(main, 1));
    groups.push({ target: spec.arch, packages: pkgs });
  }
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
 * package: ~30 ms each, most of a 400-package build. A two-rule magic file (via $MAGIC) makes that
 * nothing; the payload files are plain data anyway.
 */
const TINY_MAGIC = "0\tstring\t\\x7fELF\tELF\n0\tstring\t#!\tscript text executable\n";

/** Builds every package of the image; returns the .rpm files. */
export async function buildRpms(spec: NormalizedSpec, work: string): Promise<string[]> {
  const top = join(work, "rpmbuild");
  const magic = join(work, "tiny.magic");
  writeFileSync(magic, TINY_MAGIC);
  for (const d of ["SPECS", "RPMS", "BUILD", "BUILDROOT", "SRPMS", "SOURCES"])
    mkdirSync(join(top, d), { recursive: true });
  const groups = specGroups(spec, work);
  for (const [i, g] of groups.entries()) {
    const payload = join(work, `payload-${i}`);
    mkdirSync(payload, { recursive: true });
    const specFile = join(top, "SPECS", `image-${i}.spec`);
    writeFileSync(specFile, specText(g.packages[0]!, g.packages.slice(1), payload));
    await run(
      "rpmbuild",
      [
        "-bb",
        "--quiet",
        "--target",
        g.target,
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
        specFile,
      ],
      // passive OpenMP threads: rpmbuild packages in parallel, and spinning threads hurt on busy machines
      { env: { HOME: work, SOURCE_DATE_EPOCH, MAGIC: magic, OMP_WAIT_POLICY: "passive" } },
    );
  }
  return listRpms(join(top, "RPMS"));
}

/** rpm --root TREE installs the packages (chroot: needs root), then the database is tidied as in an image. */
export async function installRpms(
  spec: NormalizedSpec,
  tree: string,
  rpms: readonly string[],
  work: string,
): Promise<void> {
  await run("rpm", [
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
    ...rpms,
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
  if (spec.el === "8") {
    const dumps = join(work, "bdb-dumps");
    mkdirSync(dumps, { recursive: true });
    await convertToBdb(db, dumps);
  }
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
