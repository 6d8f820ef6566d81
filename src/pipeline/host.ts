/** Facts about the machine running a leg: runner OS, tools, KVM. */
import { access, constants, readFile, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { Arch } from "../catalog/catalog.js";
import { InterruptedError } from "../errors.js";
import { parseOsRelease } from "../inspect/os-release.js";
import { runChild } from "../process/children.js";

export type RunnerOs = "ubuntu" | "rhel" | "unknown";

/** Ubuntu/Debian vs RHEL-family, as the seed decides it (it checks /etc/redhat-release first). */
export async function detectRunnerOs(root = "/"): Promise<RunnerOs> {
  if (await exists(join(root, "etc/redhat-release"))) return "rhel";
  try {
    const os = parseOsRelease(await readFile(join(root, "etc/os-release"), "utf8"));
    const ids = `${os.ID ?? ""} ${os.ID_LIKE ?? ""}`.split(/\s+/);
    if (ids.some((id) => id === "debian" || id === "ubuntu")) return "ubuntu";
    if (ids.some((id) => ["rhel", "fedora", "centos", "almalinux", "rocky"].includes(id))) return "rhel";
  } catch {
    // no os-release: unknown
  }
  return "unknown";
}

/** Packer `-var` arguments for the runner OS, exactly as the seed passes them. */
export function packerVarsFor(os: RunnerOs, arch: Arch): Record<string, string> {
  if (os === "rhel") return { qemu_binary: "/usr/libexec/qemu-kvm" };
  return {
    qemu_binary: `/usr/bin/qemu-system-${arch}`,
    ovmf_code: "/usr/share/OVMF/OVMF_CODE_4M.fd",
    ovmf_vars: "/usr/share/OVMF/OVMF_VARS_4M.fd",
  };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** An executable found on PATH (or the path itself when it contains a slash). */
export async function findExecutable(
  name: string,
  path = process.env.PATH ?? "",
): Promise<string | undefined> {
  const candidates = name.includes("/")
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The first x.y.z a tool prints for `args` (`packer version`, `qemu-system-x86_64 --version`). */
export async function toolVersion(
  tool: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const { stdout, exitCode } = await runChild(tool, args, { timeoutMs: 30_000, signal });
    return exitCode === 0 ? /(\d+\.\d+\.\d+)/.exec(stdout)?.[1] : undefined;
  } catch (e) {
    if (e instanceof InterruptedError) throw e;
    return undefined;
  }
}

export function packerVersion(packer: string, signal?: AbortSignal): Promise<string | undefined> {
  return toolVersion(packer, ["version"], signal);
}

/** `packer init` exists from Packer 1.7.0 on. */
export function packerSupportsInit(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 1 || (major === 1 && minor >= 7);
}

export { type KvmAccess, kvmAccess } from "../boot/accel.js";
