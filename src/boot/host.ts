/**
 * What a boot test needs from the host: QEMU, qemu-img, ssh, ssh-keygen and UEFI firmware. Each missing
 * piece is a MissingDependencyError (exit 2) naming the Debian/Ubuntu package that provides it.
 */
import { access, constants } from "node:fs/promises";
import type { Arch } from "../catalog/catalog.js";
import { MissingDependencyError } from "../errors.js";
import { findExecutable } from "../inspect/nbd.js";
import { qemuBinaryFor } from "./machine.js";

/** The Debian/Ubuntu package providing each program (RHEL names in parentheses where they differ). */
const PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-system-aarch64": "qemu-system-arm",
  "qemu-img": "qemu-utils",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
};

export interface HostTools {
  readonly qemu: string;
  readonly qemuImg: string;
  readonly ssh: string;
  readonly sshKeygen: string;
}

/** An executable by name (looked up on PATH) or path; exit 2 naming its package when it is not there. */
export async function requireProgram(name: string, packageName?: string): Promise<string> {
  const found = name.includes("/")
    ? (await executable(name))
      ? name
      : undefined
    : await findExecutable(name);
  if (found) return found;
  const pkg = packageName ?? PACKAGES[name.split("/").pop()!] ?? name;
  throw new MissingDependencyError(`${name} is not installed (install it: apt-get install ${pkg})`);
}

/** Every program a boot test runs; `qemu` overrides the arch's default QEMU binary. */
export async function requireHostTools(arch: Arch, qemu?: string): Promise<HostTools> {
  const qemuName = qemu ?? qemuBinaryFor(arch);
  return {
    qemu: await requireProgram(qemuName, PACKAGES[qemuBinaryFor(arch)]),
    qemuImg: await requireProgram("qemu-img"),
    ssh: await requireProgram("ssh"),
    sshKeygen: await requireProgram("ssh-keygen"),
  };
}

export interface FirmwarePair {
  readonly code: string;
  /** The variable store template; each boot gets its own copy. */
  readonly vars: string;
}

/** Where distributions install UEFI firmware for QEMU, most common first. */
export const FIRMWARE_CANDIDATES: Readonly<Record<Arch, readonly FirmwarePair[]>> = {
  x86_64: [
    { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
    { code: "/usr/share/OVMF/OVMF_CODE.fd", vars: "/usr/share/OVMF/OVMF_VARS.fd" },
    { code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", vars: "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
  ],
  aarch64: [
    { code: "/usr/share/AAVMF/AAVMF_CODE.fd", vars: "/usr/share/AAVMF/AAVMF_VARS.fd" },
    {
      code: "/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw",
      vars: "/usr/share/edk2/aarch64/vars-template-pflash.raw",
    },
  ],
};

export const FIRMWARE_PACKAGE: Readonly<Record<Arch, string>> = {
  x86_64: "ovmf",
  aarch64: "qemu-efi-aarch64",
};

async function accessible(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

const readable = (path: string) => accessible(path, constants.R_OK);
const executable = (path: string) => accessible(path, constants.X_OK);

/** The first installed firmware pair for the arch, or the one given; exit 2 naming the package otherwise. */
export async function requireFirmware(arch: Arch, given?: Partial<FirmwarePair>): Promise<FirmwarePair> {
  if (given?.code !== undefined || given?.vars !== undefined) {
    if (given.code === undefined || given.vars === undefined)
      throw new MissingDependencyError("give both --firmware-code and --firmware-vars, or neither");
    for (const path of [given.code, given.vars])
      if (!(await readable(path))) throw new MissingDependencyError(`firmware file ${path} cannot be read`);
    return { code: given.code, vars: given.vars };
  }
  for (const pair of FIRMWARE_CANDIDATES[arch]) {
    if ((await readable(pair.code)) && (await readable(pair.vars))) return pair;
  }
  throw new MissingDependencyError(
    `no UEFI firmware for ${arch} (looked for ${FIRMWARE_CANDIDATES[arch][0]!.code}; install it: apt-get install ${FIRMWARE_PACKAGE[arch]})`,
  );
}
