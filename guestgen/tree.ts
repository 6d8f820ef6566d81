/**
 * The guest's Debian tree, made by mmdebstrap from this machine's apt mirror and the recipe
 * (recipe/configure.sh run inside it), kept as a tarball in its own cache entry (key: the package list,
 * the recipe and this file), so that changing how the disk is put together does not download and
 * install Debian again.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cached } from "../imagegen/cache.js";
import { run } from "../imagegen/exec.js";

/** Debian packages of the guest (mmdebstrap --variant=minbase adds the essential ones). */
export const GUEST_PACKAGES = [
  "systemd-sysv",
  "udev",
  "dbus",
  "libnss-myhostname",
  "linux-image-cloud-amd64",
  "initramfs-tools",
  "zstd",
  "grub-efi-amd64-bin",
  "openssh-server",
  "cloud-init",
  "cloud-guest-utils",
  "fdisk",
  "xfsprogs",
  "sudo",
  "iproute2",
  "rpm",
  "tuned",
  "selinux-policy-default",
  "selinux-utils",
  "policycoreutils",
  "python3-selinux",
  "checkpolicy",
  "semodule-utils",
] as const;

export const RECIPE_DIR = fileURLToPath(new URL("./recipe/", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
export const TREE_FILE = "root.tar";

/** The tree's cache key: what mmdebstrap is asked for and everything the recipe runs. */
export function treeKey(): string {
  const h = createHash("sha256").update(JSON.stringify(GUEST_PACKAGES)).update(readFileSync(THIS_FILE));
  for (const name of readdirSync(RECIPE_DIR).sort())
    h.update(`${name}\0`).update(readFileSync(join(RECIPE_DIR, name)));
  return `tree-${h.digest("hex")}`;
}

/** The cached tarball of the configured tree (built when missing: minutes, from the network mirror). */
export async function guestTree(
  cacheRoot: string,
  mirrors: readonly string[],
  staging: string,
  log: (line: string) => void,
): Promise<string> {
  const dir = await cached(
    treeKey(),
    async (tmp) => {
      const started = Date.now();
      log("guestgen: mmdebstrap (Debian 12 from the apt mirror, then the recipe)…");
      await debootstrap(join(tmp, TREE_FILE), mirrors, staging);
      log(`guestgen: mmdebstrap ${((Date.now() - started) / 1000).toFixed(1)} s`);
      writeFileSync(
        join(tmp, "built.json"),
        `${JSON.stringify({ mirrors, seconds: (Date.now() - started) / 1000 })}\n`,
      );
    },
    cacheRoot,
  );
  return join(dir, TREE_FILE);
}

/** mmdebstrap into a tarball: the recipe's initramfs settings first, its configure.sh last. */
async function debootstrap(tarball: string, mirrors: readonly string[], staging: string): Promise<void> {
  const initramfs = [
    'mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"',
    // a small initramfs: the modules a virtio disk with XFS or ext4 needs, zstd (fast to unpack)
    'printf "MODULES=list\\nCOMPRESS=zstd\\n" > "$1/etc/initramfs-tools/conf.d/cloud-images.conf"',
    'echo RESUME=none > "$1/etc/initramfs-tools/conf.d/resume"',
    'printf "virtio_pci\\nvirtio_blk\\nvirtio_scsi\\nxfs\\next4\\n" > "$1/usr/share/initramfs-tools/modules.d/cloud-images"',
  ].join(" && ");
  const recipe = "/tmp/cloud-images-recipe";
  await run(
    "mmdebstrap",
    [
      "--mode=root",
      "--variant=minbase",
      "--format=tar",
      // documentation, manual pages and translations are not needed to boot, and make every copy bigger
      "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/locale/*",
      "--dpkgopt=path-exclude=/usr/share/doc/*",
      "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      `--include=${GUEST_PACKAGES.join(",")}`,
      `--setup-hook=${initramfs}`,
      `--customize-hook=cp -r ${RECIPE_DIR} "$1${recipe}"`,
      `--customize-hook=chroot "$1" sh ${recipe}/configure.sh`,
      `--customize-hook=rm -rf "$1${recipe}"`,
      "bookworm",
      tarball,
      ...mirrors,
    ],
    { env: { TMPDIR: staging } },
  );
}
