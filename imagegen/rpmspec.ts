/**
 * Generates one RPM spec whose main package and subpackages are the image's packages: one rpmbuild run
 * builds them all. The payload is a directory prepared beforehand; %install copies it into the buildroot.
 */
import type { PlannedPackage } from "./packages.js";

export interface SpecPackage extends PlannedPackage {
  summary: string;
  license: string;
  /** Paths inside the image this package owns (files and symlinks), already present in the payload. */
  files: string[];
  /** Directories this package owns (%dir). */
  dirs: string[];
}

const LICENSES = ["GPL-2.0-or-later", "MIT", "LGPL-2.1-or-later", "BSD-3-Clause", "Apache-2.0"];

export function licenseFor(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return LICENSES[h % LICENSES.length]!;
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
  lines.push("", main ? "%description" : `%description -n ${p.name}`, `${p.summary}.`, "");
  return lines;
}

function filesSection(p: SpecPackage, main: boolean): string[] {
  return [main ? "%files" : `%files -n ${p.name}`, ...p.dirs.map((d) => `%dir ${d}`), ...p.files, ""];
}

/** The spec text: `main` is the spec's Name, `subs` become `%package -n` subpackages. */
export function specText(main: SpecPackage, subs: readonly SpecPackage[], payloadDir: string): string {
  const out: string[] = [...preamble(main, true)];
  for (const s of subs) out.push(...preamble(s, false));
  out.push("%install", `cp -a '${payloadDir}/.' %{buildroot}/`, "");
  out.push(...filesSection(main, true));
  for (const s of subs) out.push(...filesSection(s, false));
  return out.join("\n");
}
