/**
 * The verification checks, as pure functions of what was read from an image (Observations) and what
 * the leg expects (VerifyExpectations). Both backends (the native reader and nbd) produce Observations.
 */
import { compareC, type InstalledPackage } from "../rpm/package.js";
import { parseOsRelease } from "./os-release.js";
import type { CheckResult } from "./verdict.js";

export const DEFAULT_RELEASE_PACKAGE = "almalinux-release";
export const RELEASE_FILE = "/etc/almalinux-release";
export const OS_RELEASE_FILE = "/etc/os-release";
/** Written by templates that stamp their images with the run's time stamp (the demo's guest does). */
export const BUILD_STAMP_FILE = "/etc/cloud-images-build-stamp";

export interface VerifyExpectations {
  /** Text `/etc/almalinux-release` must contain, e.g. `AlmaLinux release 9.6`. */
  readonly releaseString: string;
  /** The release package's ARCH, compared exactly: x86_64, x86_64_v2 or aarch64. */
  readonly arch: string;
  /** Default `almalinux-release` (Kitten: `almalinux-kitten-release`). */
  readonly releasePackage?: string;
  /** The catalog's root partition number. */
  readonly rootPartition?: number;
  /** The point release (`9.6`; Kitten `10`) that os-release's VERSION_ID must equal. */
  readonly release?: string;
  /** The run's time stamp: when the image has a build-stamp file, it must hold this. */
  readonly buildStamp?: string;
}

/** A value read from the image, or why it could not be read. */
export type Observed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export interface ReleasePackageInstance {
  readonly nevra: string;
  /** Null for packages without an arch. */
  readonly arch: string | null;
}

export interface ObservedPackages {
  readonly format: string;
  readonly dbPath: string;
  /** Every installed package's name, duplicates kept, any order. */
  readonly names: readonly string[];
  /** Every installed instance of the release package asked about. */
  readonly releasePackage: readonly ReleasePackageInstance[];
  /** The full records, when the backend reads them (the native reader does, nbd does not). */
  readonly packages?: readonly InstalledPackage[];
}

export interface ObservedRoot {
  /** Null when the disk has no partition table (the whole disk is the filesystem). */
  readonly partition: number | null;
  readonly filesystem: string;
  /** See OpenedRoot.rootFoundBy; `expected` when a backend only looks at the expected partition. */
  readonly foundBy: "marker" | "option" | "fallback" | "whole-disk" | "expected";
}

export interface Observations {
  readonly root: ObservedRoot;
  /** Content of /etc/almalinux-release; an error when it is missing or unreadable. */
  readonly releaseFile: Observed<string>;
  /** Content of /etc/os-release. */
  readonly osRelease: Observed<string>;
  readonly packages: Observed<ObservedPackages>;
  /** Content of the build-stamp file, when the image has one. */
  readonly buildStamp: Observed<string>;
}

/** The point release in a release string (`AlmaLinux release 9.6` → `9.6`), or undefined. */
export function releaseFromString(releaseString: string): string | undefined {
  return /\brelease\s+([0-9]+(?:\.[0-9]+)*)(?![0-9.])/.exec(releaseString)?.[1];
}

/**
 * True when `text` contains `needle` as whole words: not glued to a letter or digit before it, and not
 * followed by a letter, digit or `.digit`, so `AlmaLinux release 8.1` is not found in `… 8.10`.
 */
export function containsRelease(text: string, needle: string): boolean {
  if (needle === "") return false;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const before = text[at - 1] ?? "";
    const after = text.slice(at + needle.length, at + needle.length + 2);
    const glued = /^[A-Za-z0-9_]/;
    if (glued.test(before) && glued.test(needle)) continue;
    if (glued.test(after) || /^\.[0-9]/.test(after)) continue;
    return true;
  }
  return false;
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  const trimmed = line.trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

export function checkReleaseFile(obs: Observations, exp: VerifyExpectations): CheckResult {
  const base = { name: "release-file", expected: exp.releaseString };
  if (!obs.releaseFile.ok) {
    return {
      ...base,
      status: "fail",
      found: "missing",
      message: `${RELEASE_FILE} cannot be read: ${obs.releaseFile.error}`,
    };
  }
  const found = firstLine(obs.releaseFile.value);
  if (containsRelease(obs.releaseFile.value, exp.releaseString)) {
    return { ...base, status: "pass", found, message: `${RELEASE_FILE} contains "${exp.releaseString}"` };
  }
  return {
    ...base,
    status: "fail",
    found,
    message: `${RELEASE_FILE} does not contain the expected release string`,
  };
}

export function checkRpmdb(obs: Observations): CheckResult {
  if (!obs.packages.ok) {
    return {
      name: "rpmdb",
      status: "fail",
      found: "unreadable",
      message: `the rpm database cannot be read: ${obs.packages.error}`,
    };
  }
  const p = obs.packages.value;
  return {
    name: "rpmdb",
    status: "pass",
    found: `${p.format} at ${p.dbPath}`,
    message: `${p.format} rpm database at ${p.dbPath}: ${p.names.length} packages`,
  };
}

export function checkReleasePackage(obs: Observations, exp: VerifyExpectations): CheckResult {
  const name = exp.releasePackage ?? DEFAULT_RELEASE_PACKAGE;
  const base = { name: "release-package", expected: exp.arch };
  if (!obs.packages.ok) {
    return { ...base, status: "skip", message: `${name} not checked: the rpm database cannot be read` };
  }
  const instances = [...obs.packages.value.releasePackage].sort((a, b) => compareC(a.nevra, b.nevra));
  if (instances.length === 0) {
    return { ...base, status: "fail", found: "not installed", message: `${name} is not installed` };
  }
  const arches = instances.map((i) => i.arch ?? "(none)");
  const found = arches.join(", ");
  const listed = instances.map((i) => i.nevra).join(", ");
  if (instances.every((i) => i.arch === exp.arch)) {
    return { ...base, status: "pass", found, message: `${listed} installed, ARCH ${exp.arch}` };
  }
  const what =
    instances.length > 1
      ? `${instances.length} instances of ${name} (${listed}); each ARCH`
      : `${listed}: ARCH`;
  return { ...base, status: "fail", found, message: `${what} must be exactly ${exp.arch}` };
}

export function checkRootPartition(obs: Observations, exp: VerifyExpectations): CheckResult {
  const { partition, filesystem, foundBy } = obs.root;
  const found = partition === null ? "whole disk" : String(partition);
  const where = partition === null ? "the whole disk" : `partition ${partition}`;
  const base = { name: "root-partition", found };
  if (exp.rootPartition === undefined) {
    return { ...base, status: "skip", message: `root filesystem on ${where} (${filesystem}); none expected` };
  }
  const expected = String(exp.rootPartition);
  if (foundBy === "fallback") {
    return {
      ...base,
      expected,
      status: "warn",
      message: `no partition holds ${OS_RELEASE_FILE}; read partition ${expected} (${filesystem}), the expected root`,
    };
  }
  if (partition === exp.rootPartition) {
    const how = foundBy === "marker" ? ` (holds ${OS_RELEASE_FILE})` : "";
    return { ...base, expected, status: "pass", message: `root filesystem on partition ${found}${how}` };
  }
  return {
    ...base,
    expected,
    status: "warn",
    message: `root filesystem found on ${where} (${filesystem}), the catalog expects partition ${expected}`,
  };
}

export function checkOsRelease(obs: Observations, exp: VerifyExpectations): CheckResult {
  const release = exp.release ?? releaseFromString(exp.releaseString);
  const expected = release === undefined ? "ID=almalinux" : `ID=almalinux VERSION_ID=${release}`;
  const base = { name: "os-release", expected };
  if (!obs.osRelease.ok) {
    return {
      ...base,
      status: "fail",
      found: "missing",
      message: `${OS_RELEASE_FILE} cannot be read: ${obs.osRelease.error}`,
    };
  }
  const fields = parseOsRelease(obs.osRelease.value);
  const id = fields.ID ?? "";
  const versionId = fields.VERSION_ID ?? "";
  const found = release === undefined ? `ID=${id}` : `ID=${id} VERSION_ID=${versionId}`;
  const wrong: string[] = [];
  if (id !== "almalinux") wrong.push(`ID is "${id}", expected "almalinux"`);
  if (release !== undefined && versionId !== release)
    wrong.push(`VERSION_ID is "${versionId}", expected "${release}"`);
  if (wrong.length === 0) {
    return { ...base, status: "pass", found, message: `${OS_RELEASE_FILE} says ${found}` };
  }
  return { ...base, status: "fail", found, message: `${OS_RELEASE_FILE}: ${wrong.join("; ")}` };
}

/** Every check, in a stable order. */
/** Present only when a stamp is expected; images whose templates write no stamp skip it. */
export function checkBuildStamp(obs: Observations, expected: string): CheckResult {
  const base = { name: "build-stamp", expected };
  if (!obs.buildStamp.ok) {
    return { ...base, status: "skip", found: "none", message: `no ${BUILD_STAMP_FILE} in the image` };
  }
  const found = firstLine(obs.buildStamp.value);
  if (found === expected) {
    return {
      ...base,
      status: "pass",
      found,
      message: `${BUILD_STAMP_FILE} holds this run's stamp ${expected}`,
    };
  }
  return { ...base, status: "fail", found, message: `${BUILD_STAMP_FILE} holds another run's stamp` };
}

export function runChecks(obs: Observations, exp: VerifyExpectations): CheckResult[] {
  return [
    checkReleaseFile(obs, exp),
    checkRpmdb(obs),
    checkReleasePackage(obs, exp),
    checkRootPartition(obs, exp),
    checkOsRelease(obs, exp),
    ...(exp.buildStamp !== undefined ? [checkBuildStamp(obs, exp.buildStamp)] : []),
  ];
}
