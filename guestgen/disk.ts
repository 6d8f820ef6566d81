/**
 * The guest's disk: GPT in the AlmaLinux x86_64 layout (p1 BIOS boot, p2 ESP, p3 /boot, p4 root), the ESP
 * made with mkfs.fat + mcopy (this kernel has no vfat), /boot and the root made with the kernel's XFS
 * through loop devices, so that every file keeps its SELinux label (setfiles runs inside the mounted tree).
 * Debian's grub-efi boots as EFI/BOOT/BOOTX64.EFI and reads /grub2/grub.cfg from the /boot partition; the
 * kernel and initramfs are there under AlmaLinux's names, with a BLS entry, as the offline policy expects.
 */
import { randomUUID } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { run } from "../imagegen/exec.js";
import { partitionBytes, planLayout } from "../imagegen/layout.js";
import type { BuiltPartition } from "../imagegen/spec.js";
import { loopMount, type Mounted } from "./loop.js";

/** Small enough to copy quickly for a broken variant, big enough for the demo's build. */
export const GUEST_DISK_BYTES = 4 * 2 ** 30;

/** AlmaLinux GenericCloud's kernel arguments (http/almalinux-9.gencloud-x86_64.ks), plus SELinux. */
export const GUEST_KERNEL_ARGS = [
  "console=tty0",
  "console=ttyS0,115200n8",
  "no_timer_check",
  "net.ifnames=0",
  // Debian's kernel builds SELinux in but starts AppArmor unless told otherwise
  "security=selinux",
];

export interface GuestDisk {
  readonly diskBytes: number;
  readonly partitions: readonly BuiltPartition[];
  readonly rootPartition: number;
  readonly bootPartition: number;
  readonly rootUuid: string;
  readonly bootUuid: string;
  /** FAT volume id of the ESP, as fstab names it (XXXX-XXXX). */
  readonly espUuid: string;
  readonly kernel: {
    /** The version the rpm database's kernel-core has; the boot files are named after it. */
    readonly alma: string;
    /** The Debian kernel that really boots. */
    readonly debian: string;
  };
  /** The kernel command line of the default (only) boot entry. */
  readonly kernelArgs: string;
}

function debianKernel(tree: string): string {
  const versions = readdirSync(join(tree, "boot"))
    .filter((n) => n.startsWith("vmlinuz-"))
    .map((n) => n.slice("vmlinuz-".length));
  if (versions.length !== 1)
    throw new Error(`guestgen: expected one kernel in the tree, found ${versions.join(", ")}`);
  return versions[0]!;
}

/** /boot: the kernel and initramfs under AlmaLinux's names, grub.cfg, grubenv and the BLS entry. */
function stageBoot(tree: string, alma: string, debian: string, rootUuid: string, args: string): void {
  const boot = join(tree, "boot");
  copyFileSync(join(boot, `vmlinuz-${debian}`), join(boot, `vmlinuz-${alma}`));
  copyFileSync(join(boot, `initrd.img-${debian}`), join(boot, `initramfs-${alma}.img`));
  copyFileSync(join(boot, `config-${debian}`), join(boot, `config-${alma}`));
  copyFileSync(join(boot, `System.map-${debian}`), join(boot, `System.map-${alma}`));
  // the kernel packages' own files may have made the directory already
  if (!existsSync(join(tree, "lib/modules", alma))) symlinkSync(debian, join(tree, "lib/modules", alma));
  const options = `root=UUID=${rootUuid} ro ${args}`;
  mkdirSync(join(boot, "grub2"), { recursive: true });
  mkdirSync(join(boot, "loader/entries"), { recursive: true });
  mkdirSync(join(boot, "efi"), { recursive: true });
  // Debian's GRUB has no blscfg: the entry is spelled out, the same as the BLS entry below
  writeFileSync(
    join(boot, "grub2/grub.cfg"),
    [
      "set timeout=0",
      "serial --unit=0 --speed=115200",
      "terminal_input serial console",
      "terminal_output serial console",
      `menuentry 'AlmaLinux (${alma}) 9.6 (Sage Margay)' {`,
      `  linux /vmlinuz-${alma} ${options}`,
      `  initrd /initramfs-${alma}.img`,
      "}",
      "",
    ].join("\n"),
  );
  const entry = `cloudimages-${alma}`;
  writeFileSync(
    join(boot, "loader/entries", `${entry}.conf`),
    `title AlmaLinux (${alma}) 9.6 (Sage Margay)\nversion ${alma}\nlinux /vmlinuz-${alma}\n` +
      `initrd /initramfs-${alma}.img\noptions ${options}\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class almalinux\n`,
  );
  writeFileSync(
    join(boot, "grub2/grubenv"),
    `# GRUB Environment Block\nsaved_entry=${entry}\nboot_success=0\n`.padEnd(1024, "#"),
  );
}

/** grub-mkimage inside the tree: the EFI binary finds /boot by UUID and reads its grub2/grub.cfg. */
async function grubEfi(tree: string, bootUuid: string): Promise<Buffer> {
  const early = "/tmp/cloud-images-grub-early.cfg";
  const image = "/tmp/cloud-images-BOOTX64.EFI";
  writeFileSync(
    join(tree, early),
    `search --no-floppy --fs-uuid --set=root ${bootUuid}\nset prefix=($root)/grub2\nconfigfile $prefix/grub.cfg\n`,
  );
  try {
    const modules =
      "part_gpt xfs fat ext2 normal linux configfile search search_fs_uuid echo test serial terminal efi_gop gzio all_video";
    await run("chroot", [
      tree,
      "grub-mkimage",
      "-O",
      "x86_64-efi",
      "-o",
      image,
      "-c",
      early,
      "-p",
      "/grub2",
      ...modules.split(" "),
    ]);
    return readFileSync(join(tree, image));
  } finally {
    rmSync(join(tree, early), { force: true });
    rmSync(join(tree, image), { force: true });
  }
}

export async function assembleDisk(
  tree: string,
  disk: string,
  almaKernel: string,
  work: string,
): Promise<GuestDisk> {
  const debian = debianKernel(tree);
  const rootUuid = randomUUID();
  const bootUuid = randomUUID();
  const volumeId = randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase();
  const espUuid = `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`;
  const kernelArgs = GUEST_KERNEL_ARGS.join(" ");

  stageBoot(tree, almaKernel, debian, rootUuid, kernelArgs);
  // no device timeout: under TCG on a busy machine udev can take longer than systemd's default 90 s
  const wait = "x-systemd.device-timeout=0";
  writeFileSync(
    join(tree, "etc/fstab"),
    `UUID=${rootUuid} / xfs defaults 0 0\nUUID=${bootUuid} /boot xfs defaults,${wait} 0 0\n` +
      `UUID=${espUuid} /boot/efi vfat defaults,uid=0,gid=0,umask=077,shortname=winnt,${wait} 0 2\n`,
  );
  const efi = await grubEfi(tree, bootUuid);

  await run("truncate", ["-s", String(GUEST_DISK_BYTES), disk]);
  const plan = planLayout("x86_64", GUEST_DISK_BYTES);
  const args = ["-o"];
  for (const p of plan)
    args.push(
      `-n${p.number}:${p.firstSector}:${p.lastSector}`,
      `-t${p.number}:${p.type}`,
      `-c${p.number}:${p.name}`,
    );
  await run("sgdisk", [...args, disk]);
  const byRole = (role: string) => plan.find((p) => p.role === role)!;

  // ESP: FAT16 written into the disk file; EFI/BOOT/BOOTX64.EFI is what OVMF boots on a new machine
  const esp = byRole("esp");
  const espTree = mkdtempSync(join(work, "esp-"));
  for (const dir of ["EFI/BOOT", "EFI/almalinux"]) mkdirSync(join(espTree, dir), { recursive: true });
  writeFileSync(join(espTree, "EFI/BOOT/BOOTX64.EFI"), efi);
  writeFileSync(join(espTree, "EFI/almalinux/grubx64.efi"), efi);
  writeFileSync(
    join(espTree, "EFI/almalinux/grub.cfg"),
    `search --no-floppy --fs-uuid --set=dev ${bootUuid}\nset prefix=($dev)/grub2\nconfigfile $prefix/grub.cfg\n`,
  );
  const espBytes = partitionBytes(esp);
  await run("mkfs.fat", [
    "-F",
    "16",
    "-n",
    "EFI",
    "-i",
    volumeId,
    "-h",
    String(esp.firstSector),
    `--offset=${esp.firstSector}`,
    disk,
    String(espBytes.size / 1024),
  ]);
  await run("mcopy", ["-s", "-i", `${disk}@@${espBytes.start}`, join(espTree, "EFI"), "::/"], {
    env: { MTOOLS_SKIP_CHECK: "1" },
  });

  // /boot and the root: XFS made by the kernel's own driver, the tree copied in with its attributes
  const boot = byRole("boot");
  const root = byRole("root");
  const mounts: Mounted[] = [];
  try {
    const r = await loopMount(disk, partitionBytes(root), {
      mkfs: ["mkfs.xfs", "-q", "-f", "-L", "root", "-m", `uuid=${rootUuid}`],
    });
    mounts.unshift(r);
    mkdirSync(join(r.dir, "boot"));
    const b = await loopMount(disk, partitionBytes(boot), {
      mkfs: ["mkfs.xfs", "-q", "-f", "-L", "boot", "-m", `uuid=${bootUuid}`],
      at: join(r.dir, "boot"),
    });
    mounts.unshift(b);
    await run("sh", [
      "-c",
      `tar -C "$1" --xattrs --xattrs-include='*' -cf - . | tar -C "$2" --xattrs --xattrs-include='*' -xpf -`,
      "copy",
      tree,
      r.dir,
    ]);
    // every file labelled as the policy says (what a relabel at first boot would do, done now)
    await run("mount", ["-t", "proc", "proc", join(r.dir, "proc")]);
    try {
      await run("chroot", [
        r.dir,
        "setfiles",
        "-F",
        "-e",
        "/proc",
        "-e",
        "/sys",
        "-e",
        "/dev",
        "/etc/selinux/targeted/contexts/files/file_contexts",
        "/",
      ]);
    } finally {
      await run("umount", [join(r.dir, "proc")]);
    }
  } finally {
    for (const m of mounts) await m.unmount();
  }
  rmSync(espTree, { recursive: true, force: true });

  const partitions: BuiltPartition[] = plan.map((p) => ({
    number: p.number,
    name: p.name,
    fs: ({ bios: null, esp: "vfat", boot: "xfs", root: "xfs" } as const)[p.role],
    type: p.type,
    ...partitionBytes(p),
  }));
  return {
    diskBytes: GUEST_DISK_BYTES,
    partitions,
    rootPartition: root.number,
    bootPartition: boot.number,
    rootUuid,
    bootUuid,
    espUuid,
    kernel: { alma: almaKernel, debian },
    kernelArgs,
  };
}
