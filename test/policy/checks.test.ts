// The checks' pure evaluations on hand-made facts, and the required package sets against the real
// AlmaLinux package lists (the rules must pass on what upstream published).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseFstab } from "../../src/inspect/fstab.js";
import type { Volume } from "../../src/inspect/image-tree.js";
import { defaultEntry, entryArgs, parseBlsEntry, parseGrubenv } from "../../src/policy/bootloader.js";
import { evaluateShadow, isLocked } from "../../src/policy/checks/accounts.js";
import { type BootFacts, evaluateBoot, evaluateKernelCmdline } from "../../src/policy/checks/boot.js";
import { evaluateClean } from "../../src/policy/checks/filesystems-clean.js";
import { evaluateFstab } from "../../src/policy/checks/fstab.js";
import { evaluateRequiredPackages, type RequiredPackagesRule } from "../../src/policy/checks/packages.js";
import { evaluatePathRules } from "../../src/policy/checks/paths.js";
import { iniBool, parseIni } from "../../src/policy/checks/repos.js";
import { contextType, evaluateSelinux } from "../../src/policy/checks/selinux.js";
import { enabledBy, presetLines } from "../../src/policy/checks/services.js";
import { matchesGlob } from "../../src/policy/glob.js";
import { requiredPackages } from "../../src/policy/leg.js";

const LISTS = new URL("../data/packages/", import.meta.url);
const list = (name: string) =>
  new Set(readFileSync(new URL(name, LISTS), "utf8").split("\n").filter(Boolean));

describe("required-packages against real AlmaLinux package lists", () => {
  const cases = [
    ["AlmaLinux-9-GenericCloud-9.5-20241120.x86_64.qcow2.txt", "gencloud", "9", "x86_64"],
    ["AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2.txt", "gencloud", "9", "x86_64"],
    ["AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64.qcow2.txt", "gencloud", "10", "x86_64"],
    ["AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64_v2.qcow2.txt", "gencloud", "10-v2", "x86_64"],
    ["AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt", "oci", "8", "x86_64"],
  ] as const;
  for (const [file, type, variant, arch] of cases) {
    it(`${type} ${variant} ${arch} passes on ${file}`, () => {
      const rule: RequiredPackagesRule = {
        packages: requiredPackages({ type, variant, arch }).map((r) => ({ name: r.name, anyOf: r.anyOf })),
      };
      const ev = evaluateRequiredPackages(list(file), rule);
      expect(ev.findings ?? []).toEqual([]);
    });
  }

  it("names every missing package (the #253 tar regression)", () => {
    const names = list("AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2.txt");
    names.delete("tar");
    names.delete("cloud-init");
    const rule = { packages: requiredPackages({ type: "gencloud", variant: "9", arch: "x86_64" }) };
    const ev = evaluateRequiredPackages(names, rule);
    expect(ev.status).toBe("fail");
    expect(ev.findings!.map((f) => f.subject)).toEqual(["tar", "cloud-init"]);
  });
});

const root: Volume = { partition: 4, filesystem: "xfs", uuid: "1b5a-root", partuuid: "AAAA-4" };
const boot: Volume = { partition: 3, filesystem: "xfs", uuid: "2c6b-boot", label: "boot" };
const esp: Volume = { partition: 2, filesystem: "vfat", uuid: "ABCD-1234" };

describe("fstab", () => {
  const facts = (text: string) => ({
    fstab: { ok: true as const, value: parseFstab(text) },
    volumes: [esp, boot, root],
    rootVolume: root,
  });

  it("passes when every device names one filesystem and / has the root's type", () => {
    const ev = evaluateFstab(
      facts(
        "UUID=1b5a-root / xfs defaults 0 0\nLABEL=boot /boot xfs defaults 0 0\nUUID=abcd-1234 /boot/efi vfat umask=0077 0 2\n",
      ),
    );
    expect(ev.status).toBe("pass");
  });

  it("names a missing filesystem, a wrong root type, a missing / entry", () => {
    const missing = evaluateFstab(
      facts("UUID=1b5a-root / xfs defaults 0 0\nUUID=dead /boot xfs defaults 0 0\n"),
    );
    expect(missing.findings!.map((f) => f.message)).toEqual([
      "UUID=dead (line 2, /boot) names no filesystem or partition of the image",
    ]);
    const type = evaluateFstab(facts("PARTUUID=aaaa-4 / ext4 defaults 0 0\n"));
    expect(type.findings![0]!.message).toMatch(/has type ext4, the root filesystem is xfs/);
    const noRoot = evaluateFstab(facts("LABEL=boot /boot xfs defaults 0 0\n"));
    expect(noRoot.findings!.map((f) => f.message)).toEqual(["/etc/fstab has no entry for /"]);
    expect(evaluateFstab({ ...facts(""), fstab: { ok: false, error: "no such file" } }).status).toBe("fail");
  });

  it("reads octal escapes and /dev/disk/by-* names", () => {
    const f = parseFstab("/dev/disk/by-label/my\\x20boot /mnt/a\\040b xfs defaults\n# c\n\nbroken line\n");
    expect(f.entries[0]!.source).toEqual({ kind: "label", value: "my boot" });
    expect(f.entries[0]!.mountPoint).toBe("/mnt/a b");
    expect(f.malformed).toEqual([{ line: 4, text: "broken line" }]);
  });
});

const VER = "5.14.0-570.12.1.el9_6.x86_64";

function bootFacts(over: Partial<BootFacts> = {}, entryText?: string, env = ""): BootFacts {
  const entry = parseBlsEntry(
    `abc-${VER}`,
    entryText ??
      `title AlmaLinux\nversion ${VER}\nlinux /vmlinuz-${VER}\ninitrd /initramfs-${VER}.img\noptions root=UUID=1b5a-root ro console=tty0 console=ttyS0,115200n8 no_timer_check net.ifnames=0\n`,
  );
  const files = new Map<string, { type: string; size: number } | null>([
    [`/boot/vmlinuz-${VER}`, { type: "file", size: 100 }],
    [`/boot/initramfs-${VER}.img`, { type: "file", size: 100 }],
    [`/lib/modules/${VER}`, { type: "dir", size: 0 }],
    ["/boot/grub2/grub.cfg", { type: "file", size: 10 }],
  ]);
  return {
    kernels: [{ nevra: `kernel-core-${VER}`, ver: VER }],
    bootPrefix: "/boot",
    entries: [entry],
    grubenv: parseGrubenv(env),
    files,
    grubConfigs: ["/boot/grub2/grub.cfg"],
    rootVolume: root,
    ...over,
  };
}

describe("boot and kernel-cmdline", () => {
  it("passes on a consistent /boot", () => {
    expect(evaluateBoot(bootFacts()).status).toBe("pass");
  });

  it("names a missing initramfs, an entry for another kernel, and root= of another filesystem", () => {
    const f = bootFacts();
    (f.files as Map<string, unknown>).set(`/boot/initramfs-${VER}.img`, null);
    expect(evaluateBoot(f).findings!.map((x) => x.message)).toEqual([
      `/boot/initramfs-${VER}.img (the initramfs of kernel-core-${VER}) is missing`,
    ]);
    const wrongRoot = bootFacts(
      {},
      `linux /vmlinuz-${VER}\ninitrd /initramfs-${VER}.img\noptions root=UUID=2c6b-boot ro\n`,
    );
    expect(evaluateBoot(wrongRoot).findings![0]!.message).toMatch(
      /passes root=UUID=2c6b-boot, which is not the root filesystem/,
    );
    const noEntry = bootFacts({ entries: [] });
    expect(evaluateBoot(noEntry).findings![0]!.message).toMatch(/no boot entry/);
  });

  it("AlmaLinux 8: root= and the arguments come through $kernelopts in grubenv", () => {
    const el8 = `linux /vmlinuz-${VER}\ninitrd /initramfs-${VER}.img $tuned_initrd\noptions $kernelopts $tuned_params\n`;
    const env =
      "# GRUB Environment Block\nsaved_entry=abc-" +
      VER +
      "\nkernelopts=root=UUID=1b5a-root ro console=ttyS0,115200n8\n####";
    expect(evaluateBoot(bootFacts({}, el8, env)).status).toBe("pass");
    const noEnv = evaluateBoot(bootFacts({}, el8, ""));
    expect(noEnv.findings![0]!.message).toMatch(
      /passes no root= \(options "\$kernelopts \$tuned_params" expanded from/,
    );
    const rule = { arguments: [{ arg: "console=ttyS0,115200n8" }, { arg: "no_timer_check" }] };
    const cmd = evaluateKernelCmdline(bootFacts({}, el8, env), rule);
    expect(cmd.findings!.map((f) => f.subject)).toEqual(["no_timer_check"]);
  });

  it("the default entry is saved_entry, else the newest version", () => {
    const a = parseBlsEntry("m-5.14.0-100.el9.x86_64", "version 5.14.0-100.el9.x86_64\noptions a\n");
    const b = parseBlsEntry("m-5.14.0-99.el9.x86_64", "version 5.14.0-99.el9.x86_64\noptions b\n");
    expect(defaultEntry([b, a], new Map())?.id).toBe(a.id);
    expect(defaultEntry([b, a], new Map([["saved_entry", b.id]]))?.id).toBe(b.id);
    expect(entryArgs(parseBlsEntry("x", 'options root=UUID=1 "a b"=c\n'), new Map())).toEqual([
      "root=UUID=1",
      "a b=c",
    ]);
  });
});

describe("services", () => {
  it("presets: /etc hides /usr/lib files of the same name; files sorted by name; first match wins", () => {
    const lines = presetLines([
      { dir: "/usr/lib/systemd/system-preset", name: "99-default-disable.preset", text: "disable *\n" },
      { dir: "/usr/lib/systemd/system-preset", name: "90-default.preset", text: "enable sshd.service\n" },
      {
        dir: "/etc/systemd/system-preset",
        name: "90-default.preset",
        text: "# site\nenable tuned.service\n",
      },
    ]);
    const facts = { wantedBy: new Map(), dangling: [], presets: lines };
    expect(enabledBy("tuned.service", facts)).toMatch(/90-default.preset \(enable tuned.service\)/);
    expect(enabledBy("sshd.service", facts)).toBeNull();
    expect(enabledBy("chronyd.service", facts)).toBeNull();
    const wants = { ...facts, wantedBy: new Map([["sshd.service", ["multi-user.target.wants"]]]) };
    expect(enabledBy("sshd.service", wants)).toBe("/etc/systemd/system/multi-user.target.wants/sshd.service");
  });
});

describe("repos", () => {
  it("reads dnf's ini: continuation lines, comments, booleans", () => {
    const ini = parseIni("[baseos]\nname=BaseOS\ngpgkey=file:///a\n  file:///b\n# x\nenabled = True\n[x]\n");
    expect(ini.get("baseos")?.get("gpgkey")).toBe("file:///a file:///b");
    expect(iniBool(ini.get("baseos")?.get("enabled"))).toBe(true);
    expect(iniBool("0")).toBe(false);
    expect(iniBool(undefined)).toBeUndefined();
  });
});

describe("path rules and accounts", () => {
  it("absent, empty and not-contain rules", () => {
    const ev = evaluatePathRules(
      {
        matches: [
          [{ path: "/tmp/x", type: "file", size: 0 }],
          [
            { path: "/var/log/a", type: "file", size: 0 },
            { path: "/var/log/b", type: "file", size: 9 },
            { path: "/var/log/d", type: "dir", size: 4096 },
          ],
          [
            {
              path: "/etc/sysconfig/network-scripts/ifcfg-eth0",
              type: "file",
              size: 40,
              line: "HWADDR=52:54:00:12:34:56",
            },
          ],
        ],
      },
      [
        { path: "/tmp/*", must: "absent" },
        { path: "/var/log/**", must: "empty" },
        { path: "/etc/sysconfig/network-scripts/ifcfg-*", must: "not-contain", pattern: "HWADDR" },
      ],
      "ok",
    );
    expect(ev.findings!.map((f) => f.subject)).toEqual([
      "/tmp/x",
      "/var/log/b",
      "/etc/sysconfig/network-scripts/ifcfg-eth0",
    ]);
  });

  it("glob components match dot names and character classes", () => {
    expect(matchesGlob(".bash_history", "*")).toBe(true);
    expect(matchesGlob("messages-20260101", "*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]")).toBe(true);
    expect(matchesGlob("messages.1", "*.[0-9]")).toBe(true);
    expect(matchesGlob("id_ed25519.pub", "*.pub")).toBe(true);
    expect(matchesGlob("a.b", "a?b")).toBe(true);
    expect(matchesGlob("a+b", "a+b")).toBe(true);
  });

  it("shadow: locked, empty and set passwords", () => {
    expect(["!", "!!", "*", "!$6$abc", "*LK*"].every(isLocked)).toBe(true);
    expect(isLocked("$6$salt$hash")).toBe(false);
    const ev = evaluateShadow("root:*:1::::::\nbin:!!:1::::::\nalma::1::::::\ntom:$6$x$y:1::::::\n", {});
    expect(ev.findings!.map((f) => f.message)).toEqual([
      "alma has an empty password (anyone can log in)",
      "tom has a password set",
    ]);
    expect(evaluateShadow(null, {}).status).toBe("fail");
  });
});

describe("selinux and filesystems-clean", () => {
  const rule = {
    mode: "enforcing",
    policyType: "targeted",
    samples: [{ path: "/etc/shadow", type: "shadow_t" }, { path: "/usr/bin/bash" }],
  };
  const cfg = '# comment\nSELINUX=enforcing\nSELINUXTYPE="targeted"\n';

  it("passes with the config and labelled samples; names a wrong mode, a missing or wrong label", () => {
    const labels = new Map([
      ["/etc/shadow", "system_u:object_r:shadow_t:s0"],
      ["/usr/bin/bash", "system_u:object_r:shell_exec_t:s0"],
    ]);
    expect(evaluateSelinux({ config: cfg, labels }, rule).status).toBe("pass");
    const bad = new Map<string, string | null | undefined>([
      ["/etc/shadow", "system_u:object_r:etc_t:s0"],
      ["/usr/bin/bash", null],
    ]);
    const ev = evaluateSelinux({ config: "SELINUX=disabled\nSELINUXTYPE=targeted\n", labels: bad }, rule);
    expect(ev.findings!.map((f) => f.message)).toEqual([
      "/etc/selinux/config says SELINUX=disabled, not enforcing",
      "/etc/shadow is labelled system_u:object_r:etc_t:s0, expected type shadow_t",
      "/usr/bin/bash has no SELinux label (the image was never relabelled)",
    ]);
    expect(evaluateSelinux({ config: null, labels }, rule).findings![0]!.message).toMatch(/is missing/);
    expect(contextType("garbage")).toBeUndefined();
  });

  it("names an unclean filesystem and the qcow2 corrupt bit; unreadable ones are noted, not failed", () => {
    const facts = {
      filesystems: [
        { where: "partition 4 (/, xfs)", clean: false, detail: "log dirty" },
        { where: "partition 2 (/boot/efi, vfat)", clean: null, detail: "not readable" },
      ],
      qcow2Corrupt: true,
    };
    expect(evaluateClean(facts).findings!.map((f) => f.subject)).toEqual(["qcow2", "partition 4 (/, xfs)"]);
    const ok = evaluateClean({ filesystems: [facts.filesystems[1]!], qcow2Corrupt: false });
    expect(ok).toMatchObject({
      status: "pass",
      message: "0 filesystems cleanly unmounted (not read: partition 2 (/boot/efi, vfat): not readable)",
    });
  });
});
