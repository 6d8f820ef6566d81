/**
 * What makes an image one of the five AlmaLinux cloud image types, as upstream's kickstarts and Ansible
 * roles build them (AlmaLinux/cloud-images at bac09d6): the packages each type's role installs, the units
 * it enables, the kernel arguments of its kickstart. imagegen's own reading of upstream, kept apart from
 * the policy's rule data so that a test of one against the other means something.
 */
import { isKernelPackage } from "./release.js";
import type { ElVersion, ImageArch } from "./spec.js";

export const IMAGE_TYPES = ["gencloud", "gencloud_ext4", "azure", "oci", "opennebula"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

interface TypeProfile {
  /** Packages the type's role (and setup_cloud_init) installs. */
  readonly packages: readonly string[];
  /** Packages its kickstart or role leaves out. */
  readonly without: readonly string[];
  readonly cloudInit: boolean;
  /** Units its role enables (besides sshd and cloud-init's). */
  readonly units: readonly string[];
}

const CLOUD_INIT = ["cloud-init", "cloud-utils-growpart", "dracut-config-generic"];
const GUEST_EXTRAS = ["qemu-guest-agent", "nfs-utils", "rsync", "jq", "tcpdump", "tuned"];

const PROFILES: Record<ImageType, TypeProfile> = {
  gencloud: {
    packages: [...CLOUD_INIT, ...GUEST_EXTRAS],
    without: [],
    cloudInit: true,
    units: ["tuned.service"],
  },
  gencloud_ext4: {
    packages: [...CLOUD_INIT, ...GUEST_EXTRAS],
    without: [],
    cloudInit: true,
    units: ["tuned.service"],
  },
  azure: {
    packages: [
      ...CLOUD_INIT,
      "WALinuxAgent",
      "hyperv-daemons",
      "hyperv-daemons-license",
      "hypervkvpd",
      "hypervvssd",
      "hypervfcopyd",
      "NetworkManager-cloud-setup",
      "cifs-utils",
      "yum-utils",
      "nvme-cli",
      "jq",
      "tcpdump",
      "rsync",
      "nfs-utils",
      "sos",
      "tuned",
      "gdisk",
    ],
    without: ["qemu-guest-agent"],
    cloudInit: true,
    units: ["waagent.service", "nm-cloud-setup.service", "nm-cloud-setup.timer", "NetworkManager.service"],
  },
  oci: {
    packages: [
      ...CLOUD_INIT,
      ...GUEST_EXTRAS,
      "nvme-cli",
      "iscsi-initiator-utils",
      "iscsi-initiator-utils-iscsiuio",
      "device-mapper-multipath",
      "device-mapper-multipath-libs",
    ],
    without: [],
    cloudInit: true,
    units: [],
  },
  opennebula: {
    packages: ["one-context", "cloud-utils-growpart", "parted", "dracut-config-generic", ...GUEST_EXTRAS],
    without: ["cloud-init"],
    cloudInit: false,
    units: [
      "one-context-local.service",
      "one-context-online.service",
      "one-context.service",
      "tuned.service",
    ],
  },
};

/** Packages only some types have: a base list of another type (OCI 8) may carry them, this type drops them. */
const TYPE_SPECIFIC = new Set([
  "WALinuxAgent",
  "hyperv-daemons",
  "hyperv-daemons-license",
  "hypervkvpd",
  "hypervvssd",
  "hypervfcopyd",
  "NetworkManager-cloud-setup",
  "cifs-utils",
  "nvme-cli",
  "iscsi-initiator-utils",
  "iscsi-initiator-utils-iscsiuio",
  "device-mapper-multipath",
  "device-mapper-multipath-libs",
  "one-context",
]);

export interface TypeOptions {
  readonly imageType: ImageType;
  readonly el: ElVersion;
  readonly arch: ImageArch;
  readonly kernel: "standard" | "64k";
  readonly removePackages: readonly string[];
}

function opennebulaAddons(el: ElVersion): string {
  return el === "10-kitten"
    ? "almalinux-kitten-release-opennebula-addons"
    : "almalinux-release-opennebula-addons";
}

/** A base package list made into the type's: other types' packages out, the type's in, kernel flavour. */
export function typePackageNames(base: readonly string[], o: TypeOptions): string[] {
  const profile = PROFILES[o.imageType];
  const wanted = [...profile.packages];
  if (o.imageType === "opennebula") wanted.push(opennebulaAddons(o.el));
  if (o.imageType === "azure" && o.el !== "8" && o.el !== "9") wanted.splice(wanted.indexOf("gdisk"), 1);
  if (o.arch !== "aarch64") wanted.push("grub2-pc");
  wanted.push("selinux-policy-targeted", "kernel-core");
  const drop = new Set([...profile.without, ...o.removePackages]);
  const out: string[] = [];
  for (const name of [...base, ...wanted]) {
    if (drop.has(name) || (TYPE_SPECIFIC.has(name) && !wanted.includes(name))) continue;
    if (/opennebula-addons$/.test(name) && o.imageType !== "opennebula") continue;
    const flavoured =
      o.kernel === "64k" && isKernelPackage(name) ? name.replace(/^kernel/, "kernel-64k") : name;
    if (!out.includes(flavoured)) out.push(flavoured);
  }
  return out;
}

export function usesCloudInit(type: ImageType): boolean {
  return PROFILES[type].cloudInit;
}

/** cloud-init's units: cloud-init 24.3 (AlmaLinux 10) renamed cloud-init.service to cloud-init-network. */
export function cloudInitUnits(el: ElVersion): string[] {
  const network = el === "8" || el === "9" ? "cloud-init.service" : "cloud-init-network.service";
  return ["cloud-init-local.service", network, "cloud-config.service", "cloud-final.service"];
}

/** The units enabled in multi-user.target.wants (cloud-init's go under cloud-init.target.wants). */
export function enabledUnits(type: ImageType, el: ElVersion): string[] {
  const units = ["sshd.service", "chronyd.service", ...PROFILES[type].units];
  if (el === "8") units.push("rsyslog.service");
  if (usesCloudInit(type)) units.push("cloud-init.target");
  return units;
}

/** SysV services enabled with chkconfig (/etc/rc.d/rc3.d/S10name): the network scripts on OpenNebula 8. */
export function sysvServices(type: ImageType, el: ElVersion): string[] {
  return type === "opennebula" && el === "8" ? ["network"] : [];
}

const OCI_ISCSI_8_9 = "netroot=iscsi:169.254.0.2:::1:iqn.2015-02.oracle.boot:uefi";
const OCI_ISCSI_TAIL = [
  "rd.iscsi.param=node.session.timeo.replacement_timeout=6000",
  "libiscsi.debug_libiscsi_eh=1",
  "nvme_core.shutdown_timeout=10",
];

/** The kickstart's `bootloader --append` for the type, version and arch. */
export function kernelArgs(type: ImageType, el: ElVersion, arch: ImageArch): string[] {
  const arm = arch === "aarch64";
  if (type === "azure") {
    const console = arm
      ? ["console=ttyAMA0", "earlycon=pl011,0xeffec000", "initcall_blacklist=arm_pmu_acpi_init"]
      : ["console=ttyS0", "earlyprintk=ttyS0"];
    return [
      "loglevel=3",
      "console=tty1",
      ...console,
      "rootdelay=300",
      "no_timer_check",
      "net.ifnames=0",
      "nvme_core.io_timeout=240",
    ];
  }
  if (type === "oci") {
    const console = arm
      ? ["console=ttyAMA0", "console=ttyAMA0,115200n8"]
      : ["console=tty0", "console=ttyS0,115200n8"];
    const iscsi = el === "8" || el === "9" ? [OCI_ISCSI_8_9] : ["netroot=iscsi", "rd.iscsi.firmware=1"];
    return [...console, "no_timer_check", "net.ifnames=0", ...iscsi, ...OCI_ISCSI_TAIL];
  }
  return ["console=tty0", "console=ttyS0,115200n8", "no_timer_check", "net.ifnames=0"];
}
