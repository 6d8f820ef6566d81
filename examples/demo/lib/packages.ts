/** The Debian packages the demo needs, which of them are missing, and the apt-get line that installs them. */
import { spawnSync } from "node:child_process";
import { EnvironmentError } from "../../../src/errors.js";

/**
 * Packer and QEMU with OVMF for the build and the boot test, openssh-client for the boot test,
 * mmdebstrap for the test guest, the rest for its disk and rpm database.
 */
export const DEMO_PACKAGES = [
  "packer",
  "qemu-system-x86",
  "qemu-utils",
  "ovmf",
  "openssh-client",
  "mmdebstrap",
  "xfsprogs",
  "gdisk",
  "mtools",
  "dosfstools",
  "rpm",
  "sqlite3",
] as const;

export const APT_GET = ["apt-get", "-o", "DPkg::Lock::Timeout=600"] as const;

/** The packages among `names` that dpkg does not list as installed. */
export function missingPackages(names: readonly string[] = DEMO_PACKAGES): string[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax
  const format = "-f=${Package}\\t${db:Status-Status}\\n";
  const r = spawnSync("dpkg-query", ["-W", format, ...names], {
    encoding: "utf8",
  });
  if (r.error) {
    throw new EnvironmentError(`cannot run dpkg-query (the demo needs Debian or Ubuntu): ${r.error.message}`);
  }
  // Exit status 1 only means some names are unknown; those are simply absent from stdout.
  const installed = new Set(
    r.stdout
      .split("\n")
      .map((l) => l.split("\t"))
      .filter(([, status]) => status === "installed")
      .map(([name]) => name!.replace(/:.*$/, "")),
  );
  return names.filter((n) => !installed.has(n));
}

/** The install command, as argv (run as root) and as one line to show (prefixed with sudo). */
export function installCommand(missing: readonly string[]): { argv: string[]; line: string } {
  const argv = [...APT_GET, "install", "-y", "--no-install-recommends", ...missing];
  return { argv, line: `sudo ${argv.join(" ")}` };
}
