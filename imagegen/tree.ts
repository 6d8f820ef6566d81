/**
 * The staged root tree: an AlmaLinux-like skeleton (usr-merge symlinks, /etc with relative and absolute
 * symlinks, config files, a few large directories) before the packages are installed into it, and the
 * finishing touches after (rpmdb symlink, extra files). The configuration is what a published image has
 * after upstream's cleanup (ansible/roles/cleanup_vm): sshd with its drop-in directory, SELinux enforcing,
 * locked accounts, signed repositories with their keys, the image type's units enabled, empty logs, no
 * machine id, host keys, hostname, network profiles or installer files.
 */
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pseudoRandom } from "./bytes.js";
import { cloudInitUnits, enabledUnits, kernelArgs, sysvServices, usesCloudInit } from "./image-types.js";
import { isKitten, majorOf } from "./release.js";
import type { NormalizedSpec } from "./spec.js";

export interface TreeIds {
  rootUuid: string;
  bootUuid: string;
  espVolumeId: string;
  /** The kernel release: /boot/vmlinuz-KERNEL, /lib/modules/KERNEL. */
  kernel: string;
  /** The machine id of the build (names the BLS entry); /etc/machine-id itself is left empty. */
  machineId: string;
}

/** Number of files in the two big directories (so XFS directories reach leaf/node form). */
export const ETC_FIXTURE_FILES = 400;
export const MODULE_FILES = 3000;

export function file(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

export function dir(root: string, path: string, mode = 0o755): void {
  const p = join(root, path);
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
}

export function link(root: string, path: string, target: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  symlinkSync(target, p);
}

/** The ESP's UUID as blkid and fstab spell it: 1234-ABCD. */
export function espUuid(ids: TreeIds): string {
  return `${ids.espVolumeId.slice(0, 4)}-${ids.espVolumeId.slice(4)}`;
}

export function fstab(spec: NormalizedSpec, ids: TreeIds): string {
  const lines = ["", "#", "# /etc/fstab", "# Created by imagegen", "#", ""];
  lines.push(`UUID=${ids.rootUuid} /                       ${spec.rootfs}     defaults        0 0`);
  if (spec.layout === "almalinux") {
    lines.push(`UUID=${ids.bootUuid} /boot                   ${spec.rootfs}     defaults        0 0`);
    lines.push(
      `UUID=${espUuid(ids)}          /boot/efi               vfat    umask=0077,shortname=winnt 0 2`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "bin:x:1:1:bin:/bin:/sbin/nologin",
  "daemon:x:2:2:daemon:/sbin:/sbin/nologin",
  "adm:x:3:4:adm:/var/adm:/sbin/nologin",
  "nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin",
  "sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin",
  "chrony:x:997:995:chrony system user:/var/lib/chrony:/sbin/nologin",
];

const GROUP = ["root:x:0:", "bin:x:1:", "daemon:x:2:", "adm:x:4:", "wheel:x:10:", "nobody:x:65534:"];

/** Locked passwords as a published image has them: root `*` (the roles' "Disable root login"), the rest `!!`. */
export function shadow(): string {
  return `${PASSWD.map((l) => l.split(":")[0])
    .map((u) => `${u}:${u === "root" ? "*" : "!!"}:20000:0:99999:7:::`)
    .join("\n")}\n`;
}

/** sshd_config as the openssh-server package ships it, with the image's PermitRootLogin. */
export function sshdConfig(el: string): string {
  const head = [
    "#\t$OpenBSD: sshd_config,v 1.104 2021/07/02 05:11:21 dtucker Exp $",
    "",
    "# This is the sshd server system-wide configuration file.  See",
    "# sshd_config(5) for more information.",
    "",
  ];
  // OpenSSH 8.0 (AlmaLinux 8) has no Include: the settings sit in the main file
  const body =
    el === "8"
      ? [
          "HostKey /etc/ssh/ssh_host_rsa_key",
          "HostKey /etc/ssh/ssh_host_ecdsa_key",
          "HostKey /etc/ssh/ssh_host_ed25519_key",
          "SyslogFacility AUTHPRIV",
          "PermitRootLogin no",
          "AuthorizedKeysFile\t.ssh/authorized_keys",
          "PasswordAuthentication no",
          "ChallengeResponseAuthentication no",
          "GSSAPIAuthentication yes",
          "GSSAPICleanupCredentials no",
          "UsePAM yes",
          "X11Forwarding yes",
          "PrintMotd no",
        ]
      : [
          "# To modify the system-wide sshd configuration, create a  *.conf  file under",
          "#  /etc/ssh/sshd_config.d/  which will be automatically included below",
          "Include /etc/ssh/sshd_config.d/*.conf",
          "",
          "#PermitRootLogin prohibit-password",
          "#StrictModes yes",
          "#MaxAuthTries 6",
          "AuthorizedKeysFile\t.ssh/authorized_keys",
          "#PasswordAuthentication yes",
          "#PermitEmptyPasswords no",
        ];
  const tail = [
    "",
    "# override default of no subsystems",
    "Subsystem\tsftp\t/usr/libexec/openssh/sftp-server",
    "",
    "# Example of overriding settings on a per-user basis",
    "Match User anoncvs",
    "\tX11Forwarding no",
    "\tAllowTcpForwarding no",
    "\tPermitTTY no",
    "\tPermitRootLogin yes",
    "\tForceCommand cvs server",
  ];
  return `${[...head, ...body, ...tail].join("\n")}\n`;
}

/** The GPG key file AlmaLinux's repository files name (file:///etc/pki/rpm-gpg/...). */
export function gpgKeyName(spec: NormalizedSpec): string {
  return spec.el === "8" ? "RPM-GPG-KEY-AlmaLinux" : `RPM-GPG-KEY-AlmaLinux-${majorOf(spec.el)}`;
}

function repoFile(spec: NormalizedSpec, repo: string): string {
  const name = isKitten(spec.el) ? "AlmaLinux Kitten" : "AlmaLinux";
  const version = isKitten(spec.el) ? "10-kitten" : "$releasever";
  return (
    `[${repo}]\nname=${name} ${version} - ${repo}\n` +
    `mirrorlist=https://mirrors.almalinux.org/mirrorlist/${version}/${repo}\n` +
    `enabled=1\ngpgcheck=1\ncountme=1\ngpgkey=file:///etc/pki/rpm-gpg/${gpgKeyName(spec)}\n` +
    `metadata_expire=86400\nenabled_metadata=1\n\n` +
    `[${repo}-debuginfo]\nname=${name} ${version} - ${repo} debuginfo\n` +
    `mirrorlist=https://mirrors.almalinux.org/mirrorlist/${version}/${repo}-debuginfo\n` +
    `enabled=0\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/${gpgKeyName(spec)}\n`
  );
}

/** An ASCII-armoured block shaped like a public key (the checks only need the file). */
function armoredKey(seed: string): string {
  const body = pseudoRandom(seed, 1200)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body.trimEnd()}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}

/** The kernel command line of the image type (the kickstart's bootloader --append), with root=. */
export function kernelOptions(spec: NormalizedSpec, ids: TreeIds): string {
  return [`root=UUID=${ids.rootUuid}`, "ro", ...kernelArgs(spec.imageType, spec.el, spec.arch)].join(" ");
}

/** systemd units: unit files, .wants symlinks for what the image type enables, presets as AlmaLinux has them. */
function systemd(root: string, spec: NormalizedSpec): void {
  const units = new Set(["multi-user.target", "cloud-init.target", "network-online.target"]);
  const enabled = enabledUnits(spec.imageType, spec.el);
  for (const u of enabled) units.add(u);
  const cloud = usesCloudInit(spec.imageType) ? cloudInitUnits(spec.el) : [];
  for (const u of cloud) units.add(u);
  for (const u of units)
    file(
      root,
      `usr/lib/systemd/system/${u}`,
      `[Unit]\nDescription=${u}\n\n[Install]\nWantedBy=multi-user.target\n`,
    );
  link(root, "etc/systemd/system/default.target", "/usr/lib/systemd/system/multi-user.target");
  for (const u of enabled)
    link(root, `etc/systemd/system/multi-user.target.wants/${u}`, `/usr/lib/systemd/system/${u}`);
  for (const u of cloud)
    link(root, `etc/systemd/system/cloud-init.target.wants/${u}`, `/usr/lib/systemd/system/${u}`);
  for (const name of sysvServices(spec.imageType, spec.el)) {
    file(root, `etc/rc.d/init.d/${name}`, `#! /bin/bash\n# chkconfig: 2345 10 90\n`, 0o755);
    link(root, `etc/rc.d/rc3.d/S10${name}`, `../init.d/${name}`);
  }
  file(root, "usr/lib/systemd/system-preset/85-display-manager.preset", "enable gdm.service\n");
  file(
    root,
    "usr/lib/systemd/system-preset/90-default.preset",
    "enable sshd.service\nenable chronyd.service\nenable NetworkManager.service\n",
  );
  file(root, "usr/lib/systemd/system-preset/99-default-disable.preset", "disable *\n");
}

/** The skeleton, before rpm installs the packages. */
export function stageSkeleton(root: string, spec: NormalizedSpec, ids: TreeIds): void {
  const major = majorOf(spec.el);
  dir(root, "");
  for (const d of ["boot", "dev", "etc", "home", "media", "mnt", "opt", "proc", "run", "srv", "sys"])
    dir(root, d);
  dir(root, "root", 0o550);
  dir(root, "tmp", 0o1777);
  for (const d of [
    "bin",
    "sbin",
    "lib",
    "lib64",
    "libexec",
    "include",
    "local/bin",
    "share/empty.sshd",
    "src",
  ])
    dir(root, `usr/${d}`);
  for (const d of ["adm", "cache", "db", "empty", "lib", "local", "log", "opt", "spool/mail", "lib/chrony"])
    dir(root, `var/${d}`);
  dir(root, "var/tmp", 0o1777);
  // usr-merge and /var/run: relative symlinks, as on AlmaLinux
  link(root, "bin", "usr/bin");
  link(root, "sbin", "usr/sbin");
  link(root, "lib", "usr/lib");
  link(root, "lib64", "usr/lib64");
  link(root, "var/run", "../run");
  link(root, "var/lock", "../run/lock");
  link(root, "var/mail", "spool/mail");

  // cleanup_vm: /etc/hostname removed, /etc/machine-id and /etc/resolv.conf truncated
  file(root, "etc/machine-id", "");
  file(root, "etc/resolv.conf", "");
  file(root, "etc/fstab", fstab(spec, ids));
  file(root, "etc/passwd", `${PASSWD.join("\n")}\n`);
  file(root, "etc/group", `${GROUP.join("\n")}\n`);
  file(root, "etc/shadow", shadow(), 0o000);
  const args = kernelArgs(spec.imageType, spec.el, spec.arch).join(" ");
  file(root, "etc/kernel/cmdline", `${kernelOptions(spec, ids)}\n`);
  file(
    root,
    "etc/default/grub",
    `GRUB_TIMEOUT=0\nGRUB_DISABLE_SUBMENU=true\nGRUB_CMDLINE_LINUX="${args}"\nGRUB_ENABLE_BLSCFG=true\n`,
  );
  file(root, "etc/ssh/sshd_config", sshdConfig(spec.el), 0o600);
  if (spec.el !== "8") {
    file(
      root,
      "etc/ssh/sshd_config.d/50-redhat.conf",
      "Include /etc/crypto-policies/back-ends/opensshserver.config\nSyslogFacility AUTHPRIV\n" +
        "ChallengeResponseAuthentication no\nGSSAPIAuthentication yes\nGSSAPICleanupCredentials no\n" +
        "UsePAM yes\nX11Forwarding yes\nPrintMotd no\n",
      0o600,
    );
    if (usesCloudInit(spec.imageType))
      file(root, "etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication no\n", 0o600);
    file(
      root,
      "etc/crypto-policies/back-ends/opensshserver.config",
      "Ciphers aes256-gcm@openssh.com,aes256-ctr\n",
    );
  }
  file(
    root,
    "etc/selinux/config",
    "# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n",
  );
  if (usesCloudInit(spec.imageType)) {
    const user = spec.imageType === "oci" ? "opc" : "almalinux";
    file(
      root,
      "etc/cloud/cloud.cfg",
      `users:\n  - default\ndisable_root: true\nsystem_info:\n  default_user:\n    name: ${user}\n`,
    );
    if (spec.imageType === "azure")
      file(root, "etc/cloud/cloud.cfg.d/91-azure_datasource.cfg", "datasource_list: [ Azure ]\n");
    if (spec.imageType === "oci")
      file(root, "etc/cloud/cloud.cfg.d/99_oci.cfg", "datasource_list: ['Oracle']\n");
  }
  for (const repo of ["baseos", "appstream", "extras"])
    file(root, `etc/yum.repos.d/almalinux-${repo}.repo`, repoFile(spec, repo));
  file(root, `etc/pki/rpm-gpg/${gpgKeyName(spec)}`, armoredKey(`gpg-${spec.el}`));
  file(
    root,
    "etc/dnf/dnf.conf",
    "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n",
  );
  // networking: no profiles of the build machine; AlmaLinux 8 keeps an ifcfg for eth0 without HWADDR
  dir(root, "etc/NetworkManager/system-connections", 0o700);
  dir(root, "etc/udev/rules.d");
  if (spec.el === "8") {
    file(
      root,
      "etc/sysconfig/network-scripts/ifcfg-eth0",
      "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\n",
    );
  }
  // logs truncated as cleanup_vm leaves them; empty cache and state directories
  for (const log of [
    "cron",
    "maillog",
    "messages",
    "secure",
    "spooler",
    "wtmp",
    "lastlog",
    "audit/audit.log",
  ])
    file(root, `var/log/${log}`, "");
  file(root, "var/log/btmp", "", 0o600);
  dir(root, "var/log/chrony");
  dir(root, "var/cache/dnf");
  dir(root, "home");
  file(root, "usr/share/zoneinfo/UTC", Buffer.concat([Buffer.from("TZif2"), Buffer.alloc(109)]));
  link(root, "etc/localtime", "../usr/share/zoneinfo/UTC");
  link(root, "etc/mtab", "../proc/self/mounts");
  // units, with absolute symlinks (resolved against the image root by readers, never the host)
  systemd(root, spec);
  link(root, "usr/bin/python3", `python3.${major === "8" ? "6" : major === "9" ? "9" : "12"}`);
  // the login shell (a package that ships /usr/bin/bash replaces it when rpm installs)
  file(root, "usr/bin/bash", Buffer.concat([Buffer.from("\x7fELF"), pseudoRandom("bash", 4092)]), 0o755);
  link(root, "usr/bin/sh", "bash");

  // a big /etc directory, a symlink chain and a long symlink (291 bytes: a block on ext4, still inline on
  // XFS; see protofile.ts for why XFS gets no remote symlinks)
  for (let i = 1; i <= ETC_FIXTURE_FILES; i++) file(root, `etc/fixture.d/file-${i}.conf`, `cfg ${i}\n`);
  link(root, "etc/fixture.d/chain-1", "chain-2");
  link(root, "etc/fixture.d/chain-2", "chain-3");
  link(root, "etc/fixture.d/chain-3", "file-1.conf");
  link(root, "etc/fixture.d/long-link", `${"./".repeat(140)}file-2.conf`);

  // kernel modules: a directory of thousands of entries
  const mods = `usr/lib/modules/${ids.kernel}`;
  const names: string[] = [];
  for (let i = 0; i < MODULE_FILES; i++) {
    const name = `fixture-driver-${String(i).padStart(4, "0")}.ko.xz`;
    names.push(name);
    file(
      root,
      `${mods}/kernel/drivers/fixture/${name}`,
      pseudoRandom(`${ids.kernel}/${name}`, 96 + (i % 7) * 32),
    );
  }
  file(root, `${mods}/modules.dep`, names.map((n) => `kernel/drivers/fixture/${n}:`).join("\n"));
  file(root, `${mods}/vmlinuz`, pseudoRandom(`vmlinuz-${ids.kernel}`, 64 * 1024));
}

/** After the packages: the rpmdb compatibility symlink. */
export function linkRpmdb(root: string, spec: NormalizedSpec): void {
  if (spec.rpmdbPath !== "/usr/lib/sysimage/rpm") return;
  rmSync(join(root, "var/lib/rpm"), { recursive: true, force: true });
  link(root, "var/lib/rpm", "../../usr/lib/sysimage/rpm");
}

/** Extra files from the spec, last, replacing whatever is at their paths. */
export function writeExtraFiles(root: string, extra: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(extra)) file(root, path.slice(1), content);
}
