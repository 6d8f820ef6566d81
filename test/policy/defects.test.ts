// Every check fails on an image with exactly its defect, naming the defect in its message, while every
// other check keeps the status it has on the clean image of the same leg. Defective images are copies of
// the clean image's filesystems with the defect built in (imagegen's `defects`), or, where the defect is
// in the packages, images built with a package knob.
import { readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Defect } from "../../imagegen/defects.js";
import type { ImageSpec } from "../../imagegen/index.js";
import type { CheckResult } from "../../src/inspect/verdict.js";
import { COVER, type CoverName, coverImage, imagePath, type Leg, statuses, verifyLeg } from "./images.js";

interface Case {
  readonly check: string;
  readonly cover: CoverName;
  /** The defect: imagegen defects, or other spec knobs. */
  readonly spec: Partial<ImageSpec>;
  /** Verify as another leg than the cover's (the defect is a mismatch of image and leg). */
  readonly leg?: Leg;
  /** What the failing check's message must say. */
  readonly message: RegExp;
  readonly found?: RegExp;
  /** Verify with --deep (file-integrity), the clean image too. */
  readonly deep?: boolean;
}

const defect = (d: Defect): Partial<ImageSpec> => ({ defects: [d], formats: ["raw"] });

const CASES: readonly Case[] = [
  {
    check: "root-filesystem",
    cover: "gencloud9",
    spec: {},
    leg: { ...COVER.gencloud9.leg, type: "gencloud_ext4" },
    message: /the root filesystem \(partition 4\) is xfs, the image type needs ext4/,
    found: /^xfs$/,
  },
  {
    check: "required-packages",
    cover: "ext4_9",
    spec: { removePackages: ["tar"] },
    message: /^tar is not installed: went missing when weak dependencies were turned off$/,
    found: /^tar$/,
  },
  {
    check: "package-arch",
    cover: "ext4_9",
    spec: { packageArches: { glibc: "i686" } },
    message: /^glibc-\S+\.i686 is built for i686$/,
    found: /^glibc$/,
  },
  {
    check: "kernel",
    cover: "azureKitten64k",
    spec: { kernel: "standard" },
    message: /kernel-64k-core is not installed \(a 64k leg\); kernel-core is installed on a 64k leg/,
  },
  {
    check: "services",
    cover: "gencloud9",
    spec: defect("sshd-disabled"),
    message: /^sshd\.service is not enabled/,
    found: /^sshd\.service$/,
  },
  {
    check: "sshd",
    cover: "gencloud9",
    spec: defect("permit-root-login"),
    message: /^PermitRootLogin is yes \(\/etc\/ssh\/sshd_config\.d\/01-permitrootlogin\.conf line 1\)/,
    found: /^PermitRootLogin yes$/,
  },
  {
    check: "machine-id",
    cover: "gencloud9",
    spec: defect("machine-id"),
    message: /^\/etc\/machine-id holds [0-9a-f]{32}: every instance/,
  },
  {
    check: "ssh-host-keys",
    cover: "gencloud9",
    spec: defect("ssh-host-keys"),
    message:
      /^\/etc\/ssh\/ssh_host_ed25519_key exists \(file\).*; \/etc\/ssh\/ssh_host_ed25519_key\.pub exists/,
  },
  {
    check: "passwords",
    cover: "gencloud9",
    spec: defect("root-password"),
    message: /^root has a password set$/,
    found: /^root$/,
  },
  {
    check: "user-files",
    cover: "gencloud9",
    spec: defect("bash-history"),
    message: /^\/root\/\.bash_history is not empty \(\d+ bytes\)/,
  },
  {
    check: "leftovers",
    cover: "gencloud9",
    spec: defect("kickstart"),
    message: /^\/root\/anaconda-ks\.cfg exists \(file\)/,
  },
  {
    check: "network-config",
    cover: "gencloud9",
    spec: defect("nm-connection"),
    message: /^\/etc\/NetworkManager\/system-connections\/eth0\.nmconnection exists \(file\)/,
  },
  {
    check: "fstab",
    cover: "gencloud9",
    spec: defect("fstab-stale-swap"),
    message: /^UUID=\S+ \(line \d+, none\) names no filesystem or partition of the image$/,
  },
  {
    check: "boot",
    cover: "gencloud9",
    spec: defect("missing-initramfs"),
    message:
      /^\/boot\/initramfs-5\.14\.0-570\.12\.1\.el9_6\.x86_64\.img \(the initramfs of kernel-core-\S+\) is missing$/,
  },
  {
    check: "kernel-cmdline",
    cover: "gencloud9",
    spec: defect("no-serial-console"),
    message:
      /^\/boot\/loader\/entries\/\S+\.conf lacks console=ttyS0,115200n8 \(the serial console clouds capture\)$/,
  },
  {
    check: "selinux",
    cover: "gencloud9",
    spec: defect("selinux-permissive"),
    message: /^\/etc\/selinux\/config says SELINUX=permissive, not enforcing$/,
  },
  {
    check: "selinux",
    cover: "gencloud9",
    spec: defect("unlabelled"),
    message:
      /^\/etc\/shadow has no SELinux label \(the image was never relabelled\); \/usr\/bin\/bash has no SELinux label/,
  },
  {
    check: "filesystems-clean",
    cover: "gencloud9",
    spec: defect("dirty-root"),
    message: /^partition 4 \(\/, xfs\) was not cleanly unmounted: /,
  },
  {
    check: "repos",
    cover: "gencloud9",
    spec: defect("repo-gpgcheck-off"),
    message: /^\[baseos\] in \/etc\/yum\.repos\.d\/almalinux-baseos\.repo has gpgcheck=0/,
  },
];

const clean = new Map<string, CheckResult[]>();
const cleanKey = (c: Case) => `${c.cover}${c.deep ? " deep" : ""}`;
const broken = new Map<Case, CheckResult[]>();

beforeAll(async () => {
  for (const c of CASES) {
    const leg = c.leg ?? COVER[c.cover].leg;
    const deep = { deep: c.deep ?? false };
    if (!clean.has(cleanKey(c))) {
      clean.set(
        cleanKey(c),
        (await verifyLeg(imagePath(await coverImage(c.cover)), COVER[c.cover].leg, deep)).checks,
      );
    }
    broken.set(c, (await verifyLeg(imagePath(await coverImage(c.cover, c.spec)), leg, deep)).checks);
  }
});

describe("each check fails on exactly its defect", () => {
  for (const c of CASES) {
    it(`${c.check}: ${JSON.stringify(c.spec.defects?.[0] ?? c.spec.removePackages ?? c.spec.packageArches ?? c.spec.kernel ?? c.leg?.type)}`, () => {
      const checks = broken.get(c)!;
      const result = checks.find((x) => x.name === c.check)!;
      expect(result.status).toBe("fail");
      expect(result.message).toMatch(c.message);
      if (c.found) expect(result.found).toMatch(c.found);
      const others = statuses(checks.filter((x) => x.name !== c.check));
      const before = statuses(clean.get(cleanKey(c))!.filter((x) => x.name !== c.check));
      expect(others).toEqual(before);
      expect(clean.get(cleanKey(c))!.find((x) => x.name === c.check)?.status).toBe("pass");
    });
  }
});

// Defects are built into copies of the filesystems inside the image's cache directory; nothing the
// builder used on the way (the SELinux label dumps of relabelled trees among them) may stay there.
it("a defect image's cache directory holds only the image, its record and its rpm database", async () => {
  const withDefects = CASES.filter((c) => (c.spec.defects?.length ?? 0) > 0);
  expect(withDefects.length).toBeGreaterThan(0);
  for (const c of withDefects) {
    const img = await coverImage(c.cover, c.spec);
    expect(readdirSync(img.dir).sort(), c.check).toEqual(["built.json", "disk.raw", "rpmdb"]);
  }
});
