/** Which packages an image gets, and the made-up but stable EVR and arch each one is built with. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { typePackageNames } from "./image-types.js";
import { distTag, kernelEvr, releasePackageName } from "./release.js";
import type { NormalizedSpec } from "./spec.js";

export const PACKAGE_LIST_DIR = fileURLToPath(new URL("../test/data/packages/", import.meta.url));

/** Real AlmaLinux cloud-image lists, by major version (and x86_64_v2 for 10). */
const REALISTIC_LISTS = {
  "8": "AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt",
  "9": "AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2.txt",
  "10": "AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64.qcow2.txt",
  "10-v2": "AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64_v2.qcow2.txt",
} as const;

export interface PlannedPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  noarch: boolean;
}

/** Real epochs of some AlmaLinux packages (by name or prefix), so a few headers carry one. */
const EPOCHS: [RegExp, number][] = [
  [/^NetworkManager/, 1],
  [/^dbus/, 1],
  [/^openssl/, 1],
  [/^grub2-/, 1],
  [/^shadow-utils/, 2],
  [/^tar$/, 2],
  [/^qemu-guest-agent$/, 17],
  [/^dhcp-/, 12],
  [/^bind-/, 32],
  [/^perl-/, 4],
  [/^microcode_ctl$/, 4],
  [/^nftables$/, 1],
  [/^gmp$/, 1],
  [/^cups-libs$/, 1],
];

const NOARCH_NAMES = new Set([
  "basesystem",
  "setup",
  "tzdata",
  "ca-certificates",
  "cloud-init",
  "dnf",
  "dnf-data",
  "yum",
  "hwdata",
  "kbd-misc",
  "kbd-legacy",
  "grub2-common",
  "grub2-pc-modules",
  "publicsuffix-list-dafsa",
  "crypto-policies",
  "crypto-policies-scripts",
  "almalinux-gpg-keys",
  "almalinux-repos",
  "python3-dnf",
  "python3-setuptools-wheel",
  "python3-pip-wheel",
  "dracut-config-rescue",
  "firewalld",
  "firewalld-filesystem",
  "python3-firewall",
  "tuned",
]);

function isNoarch(name: string): boolean {
  return NOARCH_NAMES.has(name) || /-firmware(-.*)?$|^langpacks-|-(doc|data|filesystem)$/.test(name);
}

/** Reads a name list: one name a line, blank lines and duplicates allowed. */
export function readNameList(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

function baseNames(spec: NormalizedSpec): string[] {
  if (Array.isArray(spec.packages)) return spec.packages;
  if (spec.packages === "small") return readNameList(`${PACKAGE_LIST_DIR}small.txt`);
  const key = spec.el === "8" || spec.el === "9" ? spec.el : spec.arch === "x86_64_v2" ? "10-v2" : "10";
  return readNameList(`${PACKAGE_LIST_DIR}${REALISTIC_LISTS[key]}`);
}

/** x86-only boot packages make no sense on aarch64: swap or drop them. */
function forArch(name: string, arch: string): string | null {
  if (arch !== "aarch64") return name;
  if (/^(grub2-pc|microcode_ctl|biosdevname)/.test(name)) return null;
  return name.replace(/^(shim|grub2-efi)-x64/, "$1-aa64");
}

/**
 * The packages besides the release package: the chosen names, without gpg-pubkey (a pseudo-package
 * rpmbuild cannot make) and without any release package (built separately), each name once.
 */
export function plannedPackages(spec: NormalizedSpec): PlannedPackage[] {
  const releaseNames = new Set(["almalinux-release", "almalinux-kitten-release"]);
  const seen = new Set<string>();
  const out: PlannedPackage[] = [];
  const names = Array.isArray(spec.packages) ? spec.packages : typePackageNames(baseNames(spec), spec);
  for (const raw of names) {
    const name = forArch(raw, spec.arch);
    if (name === null || name === "gpg-pubkey" || releaseNames.has(name) || seen.has(name)) continue;
    seen.add(name);
    out.push(plan(name, spec));
  }
  return out;
}

/** Kernel packages carry the version-release of the kernel in the image's tree (/usr/lib/modules/VER). */
const KERNEL_PACKAGE = /^kernel(-64k)?(-core|-modules|-modules-core|-modules-extra|-tools|-tools-libs)?$/;

function plan(name: string, spec: NormalizedSpec): PlannedPackage {
  if (KERNEL_PACKAGE.test(name)) return { name, epoch: null, ...kernelEvr(spec.el), noarch: false };
  const h = createHash("sha256").update(name).digest();
  const epoch = EPOCHS.find(([re]) => re.test(name))?.[1] ?? null;
  const version = `${h[0]! % 12}.${h[1]! % 30}.${h[2]! % 10}`;
  const release = `${(h[3]! % 40) + 1}.${distTag(spec.el)}`;
  return { name, epoch, version, release, noarch: isNoarch(name) };
}

/** The release package itself. */
export function releasePackage(spec: NormalizedSpec): PlannedPackage {
  return {
    name: releasePackageName(spec.el),
    epoch: null,
    version: spec.release,
    release: `1.${distTag(spec.el)}`,
    noarch: false,
  };
}
