/**
 * The virtual machine a boot test starts, as a QEMU command line. Pure: paths, ports and the accelerator
 * are decided by the caller. No display, no VNC, no monitor and no fixed port: the only host port is the
 * SSH forward the caller picked, bound to 127.0.0.1.
 */
import type { Arch } from "../catalog/catalog.js";

export type Accelerator = "kvm" | "tcg";

export type Firmware =
  | {
      readonly kind: "uefi";
      /** Read-only firmware code (OVMF_CODE, AAVMF_CODE). */
      readonly code: string;
      /** A private, writable copy of the variable store. */
      readonly vars: string;
    }
  /** SeaBIOS (x86_64 only): QEMU's built-in default. */
  | { readonly kind: "bios" };

export interface MachineSpec {
  readonly arch: Arch;
  readonly accelerator: Accelerator;
  readonly firmware: Firmware;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** The disk the guest boots from (the overlay), qcow2. */
  readonly disk: string;
  /** QEMU writes the serial console here itself (the file stays complete whatever happens to us). */
  readonly consoleLog: string;
  /** Extra read-only raw volumes (an OpenNebula CONTEXT ISO), attached after the disk. */
  readonly volumes?: readonly string[];
  /** 127.0.0.1:PORT on the host forwards to the guest's port 22. */
  readonly sshPort: number;
  /** SMBIOS system serial number (NoCloud's `ds=nocloud-net;s=URL`). */
  readonly smbiosSerial?: string;
  readonly mac?: string;
}

/** The NIC's MAC address (QEMU's own default): an OpenNebula context names it. */
export const GUEST_MAC = "52:54:00:12:34:56";

/** The serial console device a Linux guest of the arch writes to. */
export const SERIAL_CONSOLE: Readonly<Record<Arch, string>> = { x86_64: "ttyS0", aarch64: "ttyAMA0" };

/** QEMU's option parser splits on commas; a literal comma is written twice. */
export function qemuOptionValue(value: string): string {
  return value.replace(/,/g, ",,");
}

/**
 * The guest CPU model: the host's under KVM; under TCG `max` emulates every feature QEMU knows, so
 * x86_64_v2 (and v3) guests run. The KVM probe guest uses the same model (accel.ts).
 */
export function cpuModel(accelerator: Accelerator): string {
  return accelerator === "kvm" ? "host" : "max";
}

function machineArgs(spec: MachineSpec): string[] {
  const machine = spec.arch === "aarch64" ? "virt,gic-version=max" : "q35";
  return ["-machine", machine, "-accel", spec.accelerator, "-cpu", cpuModel(spec.accelerator)];
}

function firmwareArgs(spec: MachineSpec): string[] {
  if (spec.firmware.kind === "bios") return [];
  const code = qemuOptionValue(spec.firmware.code);
  const vars = qemuOptionValue(spec.firmware.vars);
  return [
    "-drive",
    `if=pflash,format=raw,unit=0,readonly=on,file=${code}`,
    "-drive",
    `if=pflash,format=raw,unit=1,file=${vars}`,
  ];
}

/** The arguments after the QEMU binary. */
export function qemuArgs(spec: MachineSpec): string[] {
  if (spec.firmware.kind === "bios" && spec.arch !== "x86_64") {
    throw new Error(`machine: ${spec.arch} boots with UEFI only`);
  }
  const args = [
    ...["-name", "cloud-images-boot-test"],
    ...machineArgs(spec),
    ...["-smp", String(spec.cpus), "-m", String(spec.memoryMiB)],
    ...["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"],
    ...["-chardev", `file,id=console,path=${qemuOptionValue(spec.consoleLog)}`, "-serial", "chardev:console"],
    ...firmwareArgs(spec),
    ...[
      "-drive",
      `file=${qemuOptionValue(spec.disk)},format=qcow2,if=none,id=disk0,cache=unsafe,discard=unmap`,
    ],
    ...["-device", "virtio-blk-pci,drive=disk0,bootindex=0"],
  ];
  for (const [i, volume] of (spec.volumes ?? []).entries()) {
    args.push(
      "-drive",
      `file=${qemuOptionValue(volume)},format=raw,if=none,id=volume${i},readonly=on`,
      "-device",
      `virtio-blk-pci,drive=volume${i}`,
    );
  }
  args.push(
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    "-device",
    `virtio-net-pci,netdev=net0,mac=${spec.mac ?? GUEST_MAC}`,
    // entropy from the host: without it a guest under TCG can wait long for its random pool
    "-device",
    "virtio-rng-pci",
  );
  if (spec.smbiosSerial !== undefined) {
    args.push("-smbios", `type=1,serial=${qemuOptionValue(spec.smbiosSerial)}`);
  }
  return args;
}

/** The QEMU binary for an arch (Debian's names; RHEL's /usr/libexec/qemu-kvm is given with --qemu). */
export function qemuBinaryFor(arch: Arch): string {
  return arch === "aarch64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
}
