/** Every policy check, in the order they run and are reported (the order of CHECK_NAMES). */
import type { PolicyCheck } from "../check.js";
import { CHECK_NAMES } from "../types.js";
import { machineId, passwords } from "./accounts.js";
import { boot, kernelCmdline } from "./boot.js";
import { fileIntegrity } from "./file-integrity.js";
import { filesystemsClean } from "./filesystems-clean.js";
import { fstab } from "./fstab.js";
import { kernel, packageArch, requiredPackages } from "./packages.js";
import { leftovers, networkConfig, sshHostKeys, userFiles } from "./paths.js";
import { reposCheck } from "./repos.js";
import { rootFilesystem } from "./root-filesystem.js";
import { selinux } from "./selinux.js";
import { services } from "./services.js";
import { sshd } from "./sshd.js";

const ALL: readonly PolicyCheck[] = [
  rootFilesystem,
  requiredPackages,
  kernel,
  packageArch,
  services,
  sshd,
  machineId,
  sshHostKeys,
  passwords,
  userFiles,
  leftovers,
  networkConfig,
  fstab,
  boot,
  kernelCmdline,
  selinux,
  reposCheck,
  filesystemsClean,
  fileIntegrity,
];

export const CHECKS: readonly PolicyCheck[] = CHECK_NAMES.flatMap((n) => ALL.filter((c) => c.name === n));

export function checkNamed(name: string): PolicyCheck | undefined {
  return CHECKS.find((c) => c.name === name);
}
