/** The host's Debian kernel (linux-image-amd64) the demo guest boots, and the modules it needs. */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { which } from "../../../imagegen/exec.js";
import { EnvironmentError } from "../../../src/errors.js";

const execFileAsync = promisify(execFile);

export interface HostKernel {
  /** /boot/vmlinuz-VERSION */
  path: string;
  /** e.g. 6.1.0-56-amd64 */
  version: string;
  /** /lib/modules/VERSION */
  modulesDir: string;
}

export interface KernelModule {
  /** Absolute path of the .ko (possibly .ko.xz/.ko.zst/.ko.gz) file on the host. */
  path: string;
  /** CPU-specific accelerations (arch/ modules): a guest CPU may lack the feature, so failing to load them is fine. */
  optional: boolean;
}

/** What the guest's /init needs: virtio disk, XFS and ext4 (ext4 for a gencloud_ext4-style root). */
export const GUEST_MODULES = ["virtio_pci", "virtio_blk", "xfs", "ext4"] as const;

/** Compares kernel versions like `sort -V`: runs of digits numerically, the rest as text. */
export function compareVersions(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The newest /boot/vmlinuz-* whose /lib/modules directory exists (the running kernel does not matter). */
export function findHostKernel(bootDir = "/boot", modulesRoot = "/lib/modules"): HostKernel {
  let names: string[] = [];
  try {
    names = readdirSync(bootDir);
  } catch {
    // no /boot: reported below
  }
  const versions = names
    .filter((n) => n.startsWith("vmlinuz-"))
    .map((n) => n.slice("vmlinuz-".length))
    .filter((v) => existsSync(join(modulesRoot, v, "modules.dep")))
    .sort(compareVersions);
  const version = versions[versions.length - 1];
  if (!version) {
    throw new EnvironmentError(
      `no kernel in ${bootDir} with modules in ${modulesRoot} (install: apt-get install linux-image-amd64 kmod)`,
    );
  }
  return { path: join(bootDir, `vmlinuz-${version}`), version, modulesDir: join(modulesRoot, version) };
}

/**
 * The module files `modprobe --show-depends` loads for `modules`, dependencies first, each once. Built-in
 * modules need no file and are left out.
 */
export async function moduleClosure(
  kernel: HostKernel,
  modules: readonly string[] = GUEST_MODULES,
): Promise<KernelModule[]> {
  const seen = new Set<string>();
  const out: KernelModule[] = [];
  for (const name of modules) {
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync(which("modprobe") ?? "modprobe", [
        "-S",
        kernel.version,
        "--show-depends",
        name,
      ]));
    } catch (e) {
      const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
      throw new EnvironmentError(`modprobe cannot resolve module ${name} for ${kernel.version}: ${why}`);
    }
    for (const line of stdout.split("\n")) {
      const m = /^insmod\s+(\S+)/.exec(line);
      if (!m || seen.has(m[1]!)) continue;
      seen.add(m[1]!);
      out.push({ path: m[1]!, optional: m[1]!.includes("/kernel/arch/") });
    }
  }
  return out;
}
