/**
 * The staged root tree: an AlmaLinux-like skeleton (usr-merge symlinks, /etc with relative and absolute
 * symlinks, config files, a few large directories) before the packages are installed into it, and the
 * finishing touches after (rpmdb symlink, extra files).
 */
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pseudoRandom } from "./bytes.js";
import { majorOf } from "./release.js";
import type { NormalizedSpec } from "./spec.js";

export interface TreeIds {
  rootUuid: string;
  bootUuid: string;
  espVolumeId: string;
  kernel: string;
  machineId: string;
}

/** Number of files in the two big directories (so XFS directories reach leaf/node form). */
export const ETC_FIXTURE_FILES = 400;
export const MODULE_FILES = 3000;

function file(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function dir(root: string, path: string, mode = 0o755): void {
  const p = join(root, path);
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
}

function link(root: string, path: string, target: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  symlinkSync(target, p);
}

function fstab(spec: NormalizedSpec, ids: TreeIds): string {
  const lines = ["", "#", "# /etc/fstab", "# Created by imagegen", "#", ""];
  lines.push(`UUID=${ids.rootUuid} /                       ${spec.rootfs}     defaults        0 0`);
  if (spec.layout === "almalinux") {
    const esp = `${ids.espVolumeId.slice(0, 4)}-${ids.espVolumeId.slice(4)}`;
    lines.push(`UUID=${ids.bootUuid} /boot                   xfs     defaults        0 0`);
    lines.push(`UUID=${esp}          /boot/efi               vfat    umask=0077,shortname=winnt 0 2`);
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

  file(root, "etc/hostname", "localhost\n");
  file(root, "etc/machine-id", "");
  file(root, "etc/fstab", fstab(spec, ids));
  file(root, "etc/passwd", `${PASSWD.join("\n")}\n`);
  file(root, "etc/group", `${GROUP.join("\n")}\n`);
  file(root, "etc/shadow", `${PASSWD.map((l) => `${l.split(":")[0]}:!!:20000::::::`).join("\n")}\n`, 0o000);
  file(root, "etc/kernel/cmdline", "console=tty0 console=ttyS0,115200n8 no_timer_check net.ifnames=0\n");
  file(
    root,
    "etc/default/grub",
    'GRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"\n',
  );
  file(root, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n", 0o600);
  file(root, "etc/cloud/cloud.cfg", "users:\n  - default\ndisable_root: true\n");
  for (const repo of ["baseos", "appstream", "extras"]) {
    file(
      root,
      `etc/yum.repos.d/almalinux-${repo}.repo`,
      `[${repo}]\nname=AlmaLinux $releasever - ${repo}\n` +
        `mirrorlist=https://mirrors.almalinux.org/mirrorlist/$releasever/${repo}\nenabled=1\ngpgcheck=1\n`,
    );
  }
  file(root, "usr/share/zoneinfo/UTC", Buffer.concat([Buffer.from("TZif2"), Buffer.alloc(109)]));
  link(root, "etc/localtime", "../usr/share/zoneinfo/UTC");
  link(root, "etc/mtab", "../proc/self/mounts");
  // absolute symlinks (resolved against the image root by readers, never the host)
  for (const unit of ["multi-user.target", "sshd.service", "cloud-init.service", "chronyd.service"]) {
    file(root, `usr/lib/systemd/system/${unit}`, `[Unit]\nDescription=${unit}\n`);
  }
  link(root, "etc/systemd/system/default.target", "/usr/lib/systemd/system/multi-user.target");
  for (const unit of ["sshd.service", "cloud-init.service", "chronyd.service"]) {
    link(root, `etc/systemd/system/multi-user.target.wants/${unit}`, `/usr/lib/systemd/system/${unit}`);
  }
  link(root, "usr/bin/python3", `python3.${major === "8" ? "6" : major === "9" ? "9" : "12"}`);

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
