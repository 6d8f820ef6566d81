/**
 * The stand-in guest: a directory the stand-in QEMU's sshd chroots into, with Debian's static busybox
 * for the shell and coreutils, and small scripts in /usr/local/bin answering as cloud-init, systemctl,
 * rpm, getenforce, findmnt, sudo and `stat -f` would on a guest with the given facts. The boot test's
 * real scripts run there over a real SSH connection.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface FakeGuestFacts {
  releaseFile?: string;
  releaseArch?: string;
  packages?: readonly string[];
  fstype?: string;
  selinux?: string;
  /** `cloud-init status --wait --long --format json` output. */
  cloudInit?: object | string;
  state?: string;
  failedUnits?: readonly string[];
  machineId?: string;
  /** Seconds before now that the host key was written (negative: after boot). */
  hostKeyAge?: number;
  uptimeSeconds?: number;
  diskBytes?: number;
  partStart?: number;
  partBytes?: number;
  fsBytes?: number;
}

const APPLETS = [
  "sh",
  "cat",
  "echo",
  "date",
  "cut",
  "stat",
  "mktemp",
  "rm",
  "awk",
  "readlink",
  "basename",
  "timeout",
  "id",
  "sort",
  "true",
  "false",
  "printf",
  "head",
  "tail",
  "ls",
  "test",
  "[",
  "env",
  "sleep",
  "grep",
  "tr",
];

function script(root: string, name: string, body: string): void {
  const path = join(root, "usr/local/bin", name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Builds the guest root in `root`; returns the host key's public line. */
export function makeFakeGuest(root: string, facts: FakeGuestFacts = {}): string {
  for (const d of [
    "bin",
    "tmp",
    "proc",
    "etc/ssh",
    "fake",
    "usr/local/bin",
    "dev",
    "sys/devices/vda/vda4",
    "sys/class/block",
  ])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(root, "bin", a));

  const f = {
    releaseFile: "AlmaLinux release 9.6 (Sage Margay)\n",
    releaseArch: "x86_64",
    packages: ["almalinux-release", "bash", "cloud-init"],
    fstype: "xfs",
    selinux: "Enforcing",
    cloudInit: { status: "done", errors: [], detail: "DataSourceNoCloudNet [seed=dmi]" },
    state: "running",
    failedUnits: [],
    machineId: execFileSync("sh", ["-c", "od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'"], {
      encoding: "utf8",
    }),
    hostKeyAge: -60,
    uptimeSeconds: 100,
    diskBytes: 20 * 2 ** 30,
    partStart: 1290 * 2 ** 20,
    partBytes: 20 * 2 ** 30 - 1290 * 2 ** 20 - 17408,
    fsBytes: 18 * 2 ** 30,
    ...facts,
  };
  writeFileSync(join(root, "etc/almalinux-release"), f.releaseFile);
  writeFileSync(join(root, "etc/machine-id"), `${f.machineId}\n`);
  writeFileSync(join(root, "proc/uptime"), `${f.uptimeSeconds}.00 ${f.uptimeSeconds}.00\n`);
  writeFileSync(join(root, "dev/vda4"), "");
  execFileSync("mknod", ["-m", "666", join(root, "dev/null"), "c", "1", "3"]);

  const key = join(root, "etc/ssh/ssh_host_ed25519_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  const bootTime = Date.now() / 1000 - f.uptimeSeconds;
  const keyTime = bootTime - f.hostKeyAge;
  utimesSync(`${key}.pub`, keyTime, keyTime);

  // sysfs: /sys/class/block/vda4 -> the partition under its disk
  symlinkSync("../../devices/vda/vda4", join(root, "sys/class/block/vda4"));
  symlinkSync("../../devices/vda", join(root, "sys/class/block/vda"));
  writeFileSync(join(root, "sys/devices/vda/size"), `${f.diskBytes / 512}\n`);
  writeFileSync(join(root, "sys/devices/vda/vda4/partition"), "4\n");
  writeFileSync(join(root, "sys/devices/vda/vda4/start"), `${f.partStart / 512}\n`);
  writeFileSync(join(root, "sys/devices/vda/vda4/size"), `${Math.floor(f.partBytes / 512)}\n`);

  const fake = (name: string, content: string) => writeFileSync(join(root, "fake", name), content);
  fake("arch", `${f.releaseArch}\n`);
  fake("packages", `${[...f.packages].sort().join("\n")}\n`);
  fake("fstype", `${f.fstype}\n`);
  fake("selinux", `${f.selinux}\n`);
  fake("cloud-init.json", typeof f.cloudInit === "string" ? f.cloudInit : JSON.stringify(f.cloudInit));
  fake("state", `${f.state}\n`);
  fake("failed", f.failedUnits.map((u) => `${u} loaded failed failed Some unit\n`).join(""));
  fake("fs-blocks", `${Math.floor(f.fsBytes / 4096)}\n`);

  // as 22.4 does while --wait waits with the tabular format: dots first (the JSON parser skips them)
  script(root, "cloud-init", 'case "$*" in *json*) printf ".."; cat /fake/cloud-init.json ;; esac');
  script(
    root,
    "systemctl",
    'case "$1" in is-system-running) cat /fake/state; [ "$(cat /fake/state)" = running ] ;; list-units) cat /fake/failed ;; esac',
  );
  script(
    root,
    "rpm",
    [
      'if [ "$1" = -qa ]; then cat /fake/packages; exit 0; fi',
      'if [ "$1" = -q ] && [ "$2" = --qf ]; then cat /fake/arch; exit 0; fi',
      'shift; rc=0; for p in "$@"; do if grep -qx "$p" /fake/packages; then echo "$p-1.0-1.el9.x86_64"; else echo "package $p is not installed"; rc=1; fi; done; exit $rc',
    ].join("\n"),
  );
  script(root, "getenforce", "cat /fake/selinux");
  script(root, "findmnt", 'case "$*" in *FSTYPE*) cat /fake/fstype ;; *SOURCE*) echo /dev/vda4 ;; esac');
  script(root, "sudo", '[ "$1" = -n ] && shift; exec "$@"');
  script(
    root,
    "stat",
    'if [ "$1" = -f ]; then echo "4096 $(cat /fake/fs-blocks)"; else exec /bin/busybox stat "$@"; fi',
  );
  return readFileSync(`${key}.pub`, "utf8").trim();
}
