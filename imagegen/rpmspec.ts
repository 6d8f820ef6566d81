/**
 * Generates one RPM spec whose main package and subpackages are a group of the image's packages: one
 * rpmbuild run builds them all. The payload is a directory prepared beforehand; %install copies it into
 * the buildroot, and each package's %files lists its entries with their modes, owners and attributes.
 */
import type { PlannedPackage } from "./packages.js";
import type { PackageContent, PackageFile } from "./payload.js";

export interface SpecPackage extends PlannedPackage, PackageContent {
  summary: string;
  license: string;
}

const LICENSES = ["GPL-2.0-or-later", "MIT", "LGPL-2.1-or-later", "BSD-3-Clause", "Apache-2.0"];

export function licenseFor(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return LICENSES[h % LICENSES.length]!;
}

/** One %changelog entry. */
export interface ChangelogEntry {
  /** Unix seconds (the day counts). */
  time: number;
  author: string;
  text: string;
}

function preamble(p: SpecPackage, main: boolean): string[] {
  const lines = main ? [`Name: ${p.name}`] : [`%package -n ${p.name}`];
  if (p.epoch !== null) lines.push(`Epoch: ${p.epoch}`);
  lines.push(
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    `Summary: ${p.summary}`,
    `License: ${p.license}`,
  );
  if (p.noarch) lines.push("BuildArch: noarch");
  if (main) {
    lines.push(
      "Vendor: AlmaLinux",
      "Packager: AlmaLinux Packaging Team <packager@almalinux.org>",
      "URL: https://almalinux.org/",
    );
  }
  for (const r of p.requires) lines.push(`Requires: ${r}`);
  for (const r of p.recommends) lines.push(`Recommends: ${r}`);
  for (const r of p.provides) lines.push(`Provides: ${r}`);
  lines.push("", main ? "%description" : `%description -n ${p.name}`, p.description, "");
  return lines;
}

function fileLine(f: PackageFile): string {
  const mode = f.type === "symlink" ? "-" : f.mode.toString(8).padStart(4, "0");
  const parts = [`%attr(${mode},${f.user},${f.group})`];
  if (f.type === "dir") parts.unshift("%dir");
  if (f.attr === "config") parts.push("%config(noreplace)");
  else if (f.attr) parts.push(`%${f.attr}`);
  if (f.lang) parts.push(`%lang(${f.lang})`);
  parts.push(f.path);
  return parts.join(" ");
}

function filesSection(p: SpecPackage, main: boolean): string[] {
  return [main ? "%files" : `%files -n ${p.name}`, ...p.files.map(fileLine), ""];
}

function scriptSections(p: SpecPackage, main: boolean): string[] {
  const out: string[] = [];
  for (const [section, body] of Object.entries(p.scripts)) {
    out.push(main ? `%${section}` : `%${section} -n ${p.name}`, body, "");
  }
  return out;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `* Wed Jan 01 2025 Author <mail> - evr` as rpm wants it (newest first, true week days). */
function changelogSection(entries: readonly ChangelogEntry[]): string[] {
  if (entries.length === 0) return [];
  const out = ["%changelog"];
  for (const e of entries) {
    const d = new Date(e.time * 1000);
    const day = String(d.getUTCDate()).padStart(2, "0");
    const date = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day} ${d.getUTCFullYear()}`;
    out.push(`* ${date} ${e.author}`, e.text, "");
  }
  return out;
}

/** The spec text: `main` is the spec's Name, `subs` become `%package -n` subpackages. */
export function specText(
  main: SpecPackage,
  subs: readonly SpecPackage[],
  payloadDir: string,
  changelog: readonly ChangelogEntry[] = [],
): string {
  const out: string[] = [...preamble(main, true)];
  for (const s of subs) out.push(...preamble(s, false));
  out.push("%install", `cp -a '${payloadDir}/.' %{buildroot}/`, "");
  out.push(...scriptSections(main, true));
  for (const s of subs) out.push(...scriptSections(s, false));
  out.push(...filesSection(main, true));
  for (const s of subs) out.push(...filesSection(s, false));
  out.push(...changelogSection(changelog));
  return out.join("\n");
}
