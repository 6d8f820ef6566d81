/** Small stand-ins for the /boot filesystem and the EFI System Partition (no bootable bits). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pseudoRandom } from "./bytes.js";
import type { ImageArch } from "./spec.js";
import type { TreeIds } from "./tree.js";

function put(root: string, path: string, content: string | Buffer): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

/** /boot: dummy kernel and initramfs, grub2 config and environment block, a BLS entry, the efi mount point. */
export function stageBootTree(root: string, ids: TreeIds): void {
  const k = ids.kernel;
  mkdirSync(join(root, "efi"), { recursive: true });
  put(root, `vmlinuz-${k}`, pseudoRandom(`boot/vmlinuz-${k}`, 256 * 1024));
  put(root, `initramfs-${k}.img`, pseudoRandom(`boot/initramfs-${k}`, 512 * 1024));
  put(root, `.vmlinuz-${k}.hmac`, `${pseudoRandom(`hmac-${k}`, 32).toString("hex")}  vmlinuz-${k}\n`);
  put(root, `config-${k}`, "CONFIG_64BIT=y\nCONFIG_XFS_FS=m\nCONFIG_EXT4_FS=m\n");
  put(root, `System.map-${k}`, "ffffffff81000000 T _text\n");
  put(root, "grub2/grub.cfg", "set timeout=1\nblscfg\n");
  put(
    root,
    "grub2/grubenv",
    `# GRUB Environment Block\nsaved_entry=${ids.machineId}-${k}\n`.padEnd(1024, "#"),
  );
  put(
    root,
    `loader/entries/${ids.machineId}-${k}.conf`,
    `title AlmaLinux (${k})\nversion ${k}\nlinux /vmlinuz-${k}\ninitrd /initramfs-${k}.img\n` +
      `options root=UUID=${ids.rootUuid} ro console=ttyS0\n`,
  );
}

/** The ESP: shim, grub and the fallback loader under EFI/, with the arch's file names. */
export function stageEspTree(root: string, arch: ImageArch, ids: TreeIds): void {
  const a = arch === "aarch64" ? "aa64" : "x64";
  put(root, `EFI/BOOT/BOOT${a.toUpperCase()}.EFI`, pseudoRandom(`shim-${a}`, 48 * 1024));
  put(root, `EFI/BOOT/fb${a}.efi`, pseudoRandom(`fb-${a}`, 32 * 1024));
  put(root, `EFI/almalinux/shim${a}.efi`, pseudoRandom(`shim-${a}`, 48 * 1024));
  put(root, `EFI/almalinux/grub${a}.efi`, pseudoRandom(`grub-${a}`, 96 * 1024));
  put(root, `EFI/almalinux/BOOT${a.toUpperCase()}.CSV`, `shim${a}.efi,AlmaLinux,,This is the boot entry\n`);
  put(
    root,
    "EFI/almalinux/grub.cfg",
    `search --no-floppy --fs-uuid --set=dev ${ids.bootUuid}\nset prefix=($dev)/grub2\nconfigfile $prefix/grub.cfg\n`,
  );
}
