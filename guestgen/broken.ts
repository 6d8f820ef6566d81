/**
 * Copies of the guest with exactly one defect each, for the boot test's failure cases: a sparse copy of
 * the raw disk, the defect written into it through a loop mount, the changed files relabelled.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../imagegen/exec.js";
import type { BuiltGuest } from "./index.js";
import { loopMount, type Mounted } from "./loop.js";

export const GUEST_DEFECTS = [
  "cloud-init-disabled",
  "sshd-disabled",
  "failing-unit",
  "kernel-panic",
  "growpart-removed",
  "baked-machine-id",
] as const;
export type GuestDefect = (typeof GUEST_DEFECTS)[number];

/** The machine-id the baked-identity copy carries. */
export const BAKED_MACHINE_ID = createHash("sha256")
  .update("cloud-images baked machine-id")
  .digest("hex")
  .slice(0, 32);
export const FAILING_UNIT = "cloud-images-broken.service";

interface Edit {
  /** Paths (inside the root filesystem, /boot mounted) to relabel afterwards. */
  readonly relabel: readonly string[];
}

const EDITS: Readonly<Record<GuestDefect, (root: string) => Edit>> = {
  // cloud-init's generator leaves cloud-init.target out when this file exists
  "cloud-init-disabled": (root) => {
    writeFileSync(join(root, "etc/cloud/cloud-init.disabled"), "");
    return { relabel: ["/etc/cloud/cloud-init.disabled"] };
  },
  // masked, not merely disabled: cloud-init's units want sshd.service and would start it anyway
  "sshd-disabled": (root) => {
    for (const unit of ["ssh.service", "sshd.service"]) {
      rmSync(join(root, "etc/systemd/system/multi-user.target.wants", unit), { force: true });
      rmSync(join(root, "etc/systemd/system", unit), { force: true });
      symlinkSync("/dev/null", join(root, "etc/systemd/system", unit));
    }
    return { relabel: [] };
  },
  // early in the boot (before sysinit.target), so its failure shows on the console soon
  "failing-unit": (root) => {
    const wants = "etc/systemd/system/sysinit.target.wants";
    mkdirSync(join(root, wants), { recursive: true });
    writeFileSync(
      join(root, "etc/systemd/system", FAILING_UNIT),
      "[Unit]\nDescription=A unit that fails (cloud-images boot-test defect)\nDefaultDependencies=no\n\n" +
        "[Service]\nType=oneshot\nExecStart=/bin/false\n\n[Install]\nWantedBy=sysinit.target\n",
    );
    symlinkSync(`/etc/systemd/system/${FAILING_UNIT}`, join(root, wants, FAILING_UNIT));
    return { relabel: [`/etc/systemd/system/${FAILING_UNIT}`, `/${wants}`, `/${wants}/${FAILING_UNIT}`] };
  },
  // init exits at once: "Kernel panic - not syncing: Attempted to kill init!"
  "kernel-panic": (root) => {
    const cfg = join(root, "boot/grub2/grub.cfg");
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace(/^(\s*linux\s.*)$/m, "$1 init=/bin/false"));
    return { relabel: [] };
  },
  "growpart-removed": (root) => {
    rmSync(join(root, "usr/bin/growpart"));
    return { relabel: [] };
  },
  "baked-machine-id": (root) => {
    writeFileSync(join(root, "etc/machine-id"), `${BAKED_MACHINE_ID}\n`);
    return { relabel: [] };
  },
};

/** Writes a copy of the guest with `defect` to `dest` (a raw disk); root only. */
export async function brokenCopy(guest: BuiltGuest, defect: GuestDefect, dest: string): Promise<string> {
  await run("cp", ["--sparse=always", guest.raw, dest]);
  const part = (n: number) => guest.partitions.find((p) => p.number === n)!;
  const mounts: Mounted[] = [];
  try {
    const root = await loopMount(dest, part(guest.rootPartition));
    mounts.unshift(root);
    mounts.unshift(await loopMount(dest, part(guest.bootPartition), { at: join(root.dir, "boot") }));
    const { relabel } = EDITS[defect](root.dir);
    if (relabel.length > 0) {
      // setfiles labels through /proc/self/fd: without proc every file is "No such file or directory"
      mkdirSync(join(root.dir, "proc"), { recursive: true });
      await run("mount", ["-t", "proc", "proc", join(root.dir, "proc")]);
      try {
        await run("chroot", [
          root.dir,
          "setfiles",
          "-F",
          "/etc/selinux/targeted/contexts/files/file_contexts",
          ...relabel,
        ]);
      } finally {
        await run("umount", [join(root.dir, "proc")]);
      }
    }
  } catch (e) {
    for (const m of mounts) await m.unmount().catch(() => {});
    rmSync(dest, { force: true });
    throw e;
  }
  for (const m of mounts) await m.unmount();
  return dest;
}
