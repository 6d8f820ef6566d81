/** The boot test: boot an image in QEMU, give it credentials as its cloud would, check it live. */
export {
  type AcceleratorChoice,
  chooseAccelerator,
  type KvmAccess,
  kvmAccess,
  PROBE_MARKER,
  type ProbeResult,
  probeAccelerator,
} from "./accel.js";
export {
  type BootTestOptions,
  bootFiles,
  bootTest,
  CREDENTIALS,
  DEFAULT_DISK_SIZE,
  DEFAULT_TIMEOUT_SECONDS,
  parseDiskSize,
} from "./boot-test.js";
export {
  BOOT_CHECK_NAMES,
  type BootCheckName,
  type BootExpectations,
  type BootRun,
  type ConsoleFinding,
  hostKeyFingerprint,
  runBootChecks,
  type SshOutcome,
} from "./checks.js";
export {
  CONSOLE_PATTERNS,
  type ConsolePattern,
  ConsoleWatch,
  cleanConsoleLine,
  type Milestone,
  parseConsolePatterns,
} from "./console.js";
export { FIRMWARE_CANDIDATES, type FirmwarePair, requireFirmware, requireHostTools } from "./host.js";
export { writeIso9660 } from "./iso9660.js";
export {
  type Accelerator,
  type Firmware,
  GUEST_MAC,
  type MachineSpec,
  qemuArgs,
  qemuBinaryFor,
} from "./machine.js";
export { type BootPhases, type BootRecord, type BootTestResult, bootJunit } from "./result.js";
export { noCloudSeed, noCloudSmbiosSerial, openNebulaContext } from "./seed.js";
