/** How an AlmaLinux release names itself: release package, /etc/almalinux-release, /usr/lib/os-release. */
import type { ElVersion, NormalizedSpec } from "./spec.js";

/** One code name per major version (kept simple on purpose; real point releases have their own). */
const CODE_NAMES: Record<ElVersion, string> = {
  "8": "Cerulean Leopard",
  "9": "Sage Margay",
  "10": "Purple Lion",
  "10-kitten": "Lion Cub",
};

const SUPPORT_END: Record<ElVersion, string> = {
  "8": "2029-06-01",
  "9": "2032-06-01",
  "10": "2035-06-01",
  "10-kitten": "2035-06-01",
};

export function isKitten(el: ElVersion): boolean {
  return el === "10-kitten";
}

export function majorOf(el: ElVersion): string {
  return isKitten(el) ? "10" : el;
}

/** The RPM dist tag for package releases: el8, el9, el10. */
export function distTag(el: ElVersion): string {
  return `el${majorOf(el)}`;
}

export function releasePackageName(el: ElVersion): string {
  return isKitten(el) ? "almalinux-kitten-release" : "almalinux-release";
}

export function codeName(el: ElVersion): string {
  return CODE_NAMES[el];
}

/** "AlmaLinux release 9.6 (Sage Margay)\n"; Kitten "AlmaLinux Kitten release 10 (Lion Cub)\n". */
export function defaultReleaseFile(el: ElVersion, release: string): string {
  const product = isKitten(el) ? "AlmaLinux Kitten" : "AlmaLinux";
  return `${product} release ${release} (${codeName(el)})\n`;
}

/** The content of /etc/almalinux-release for a spec, or null when the spec omits the file. */
export function releaseFileContent(spec: NormalizedSpec): string | null {
  if (spec.releaseFile === null) return null;
  return spec.releaseFile ?? defaultReleaseFile(spec.el, spec.release);
}

/** Default os-release fields in AlmaLinux's order and format. */
export function defaultOsRelease(el: ElVersion, release: string): [string, string][] {
  const kitten = isKitten(el);
  const major = majorOf(el);
  const name = kitten ? "AlmaLinux Kitten" : "AlmaLinux";
  const code = codeName(el);
  return [
    ["NAME", name],
    ["VERSION", `${release} (${code})`],
    ["ID", "almalinux"],
    ["ID_LIKE", "rhel centos fedora"],
    ["VERSION_ID", release],
    ["PLATFORM_ID", `platform:el${major}`],
    ["PRETTY_NAME", `${name} ${release} (${code})`],
    ["ANSI_COLOR", "0;34"],
    ["LOGO", "fedora-logo-icon"],
    ["CPE_NAME", `cpe:/o:almalinux:almalinux:${major}::baseos`],
    ["HOME_URL", "https://almalinux.org/"],
    ["DOCUMENTATION_URL", "https://wiki.almalinux.org/"],
    ["BUG_REPORT_URL", "https://bugs.almalinux.org/"],
    ["", ""],
    ["ALMALINUX_MANTISBT_PROJECT", kitten ? "AlmaLinux-Kitten-10" : `AlmaLinux-${major}`],
    ["ALMALINUX_MANTISBT_PROJECT_VERSION", release],
    ["REDHAT_SUPPORT_PRODUCT", name],
    ["REDHAT_SUPPORT_PRODUCT_VERSION", release],
    ["SUPPORT_END", SUPPORT_END[el]],
  ];
}

/** The content of /usr/lib/os-release for a spec (overrides merged in), or null when omitted. */
export function osReleaseContent(spec: NormalizedSpec): string | null {
  if (spec.osRelease === null) return null;
  const fields = defaultOsRelease(spec.el, spec.release);
  const overrides = { ...(spec.osRelease ?? {}) };
  const lines: string[] = [];
  for (const [k, v] of fields) {
    if (k === "") {
      lines.push("");
      continue;
    }
    const value = k in overrides ? overrides[k]! : v;
    delete overrides[k];
    lines.push(formatField(k, value));
  }
  for (const [k, v] of Object.entries(overrides)) lines.push(formatField(k, v));
  return `${lines.join("\n")}\n`;
}

// AlmaLinux quotes every value except SUPPORT_END.
function formatField(key: string, value: string): string {
  if (key === "SUPPORT_END") return `${key}=${value}`;
  return `${key}="${value.replace(/(["\\$`])/g, "\\$1")}"`;
}

/** The system-release-cpe line. */
export function systemReleaseCpe(el: ElVersion): string {
  return `cpe:/o:almalinux:almalinux:${majorOf(el)}::baseos\n`;
}

/** The kernel packages' VERSION and RELEASE, of the right era for the major version. */
export function kernelEvr(el: ElVersion): { version: string; release: string } {
  return {
    "8": { version: "4.18.0", release: "553.el8_10" },
    "9": { version: "5.14.0", release: "570.12.1.el9_6" },
    "10": { version: "6.12.0", release: "55.9.1.el10_0" },
  }[majorOf(el) as "8" | "9" | "10"];
}

/** The kernel release (`uname -r`): VERSION-RELEASE.ARCH, `+64k` for the 64 KiB-page kernel. */
export function kernelVersion(el: ElVersion, arch: string, kernel: "standard" | "64k" = "standard"): string {
  const { version, release } = kernelEvr(el);
  return `${version}-${release}.${arch}${kernel === "64k" ? "+64k" : ""}`;
}

/** kernel, kernel-core, kernel-64k-modules, …: the packages built from the kernel's source. */
export function isKernelPackage(name: string): boolean {
  return /^kernel(-64k)?(-core|-modules|-modules-core|-modules-extra)?$/.test(name);
}
