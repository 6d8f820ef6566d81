/**
 * Generated rpm databases for the rpm tests: real RPMs built with rpmbuild for a target arch, some signed
 * (RSA and EdDSA), installed with Debian's rpm, plus two imported keys (gpg-pubkey pseudo-packages).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type InstalledPackage, nevra } from "../../src/rpm/index.js";
import {
  buildRpms,
  importKey,
  installRpms,
  type RpmPackageSpec,
  signRpms,
  testSigningKey,
} from "../helpers/rpmbuild.js";

export type Target = "x86_64" | "aarch64" | "x86_64_v2";

const NAMES = [
  "basesystem",
  "bash",
  "coreutils",
  "glibc",
  "glibc-common",
  "kernel-core",
  "NetworkManager",
  "openssh-server",
  "python3",
  "python3-libs",
  "systemd",
  "systemd-libs",
  "util-linux",
  "xfsprogs",
  "e2fsprogs",
  "dnf",
  "rpm",
  "rpm-libs",
  "sudo",
  "cloud-init",
  "grub2-common",
  "shim-x64",
  "libgcc",
  "zlib",
  "openssl-libs",
  "ca-certificates",
  "tzdata",
  "setup",
  "filesystem",
  "gpg-pubkey-lookalike",
];

/** The packages of a generated database; the release package first. */
export function packageSpecs(target: Target): RpmPackageSpec[] {
  const release = target === "x86_64_v2" ? "10.1" : "9.6";
  const dist = target === "x86_64_v2" ? "el10" : "el9";
  const specs: RpmPackageSpec[] = [
    { name: "almalinux-release", version: release, release: `1.${dist}`, license: "GPL-2.0-or-later" },
  ];
  for (const [i, name] of NAMES.entries()) {
    const spec: RpmPackageSpec = {
      name,
      version: `${1 + (i % 5)}.${i}.${i * 7}`,
      release: `${i + 1}.${dist}`,
    };
    if (name === "tzdata" || name === "ca-certificates" || name === "setup") spec.noarch = true;
    if (name === "kernel-core") spec.manyFiles = 300; // a header larger than a 4 KiB BDB page's items
    if (name === "dnf") spec.epoch = 0;
    if (name === "ca-certificates") spec.epoch = 1;
    if (name === "openssl-libs") spec.epoch = 2147483647;
    if (name === "python3") spec.summary = "Interpreter of the Python programming language — résumé ünïcode";
    if (name === "systemd") spec.license = "LGPL-2.1-or-later AND MIT AND GPL-2.0-or-later";
    specs.push(spec);
  }
  return specs;
}

/**
 * A root with var/lib/rpm/rpmdb.sqlite holding the target's packages: almalinux-release and bash signed
 * with RSA/SHA256, coreutils with EdDSA/SHA512, and both public keys imported. The caller removes it.
 */
export function generatedRoot(target: Target): string {
  const rpms = buildRpms({ target, vendor: "AlmaLinux (test fixture)", packages: packageSpecs(target) });
  const rsa = testSigningKey("rsa");
  const eddsa = testSigningKey("eddsa");
  const signedRsa = signRpms(rpms.slice(0, 3), rsa, "sha256");
  const signedEd = signRpms(rpms.slice(3, 4), eddsa, "sha512");
  const root = installRpms([...signedRsa, ...signedEd, ...rpms.slice(4)]);
  try {
    importKey(root, rsa);
    importKey(root, eddsa);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return root;
}

export function dbDir(root: string): string {
  return join(root, "var/lib/rpm");
}

/**
 * rpm's view of each package, the oracle: one tab-separated line per header in database order.
 * Keep the field list in sync with `ourLine` below.
 */
export const ORACLE_FORMAT = [
  "%{NAME}",
  "%|EPOCH?{%{EPOCH}}:{<null>}|",
  "%{VERSION}",
  "%{RELEASE}",
  "%|ARCH?{%{ARCH}}:{<null>}|",
  "%{LICENSE}",
  "%|SOURCERPM?{%{SOURCERPM}}:{<null>}|",
  "%|LONGSIZE?{%{LONGSIZE}}:{%{SIZE}}|",
  "%|INSTALLTIME?{%{INSTALLTIME}}:{<null>}|",
  "%|VENDOR?{%{VENDOR}}:{<null>}|",
  "%{SUMMARY}",
  "%|SIGMD5?{%{SIGMD5}}:{<null>}|",
  "%|SHA256HEADER?{%{SHA256HEADER}}:{<null>}|",
  "%|SHA1HEADER?{%{SHA1HEADER}}:{<null>}|",
  "%|PAYLOADDIGEST?{[%{PAYLOADDIGEST} ]}:{<null>}|",
  "%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{%|DSAHEADER?{%{DSAHEADER:pgpsig}}:{%|SIGPGP?{%{SIGPGP:pgpsig}}:{%|SIGGPG?{%{SIGGPG:pgpsig}}:{<null>}|}|}|}|",
  "%{DBINSTANCE}",
  "%{NEVRA}",
].join("\t");

const nul = (v: string | number | null) => (v === null ? "<null>" : String(v));

/** Our package in the oracle's line format. */
export function ourLine(p: InstalledPackage, instance: number): string {
  return [
    p.name,
    nul(p.epoch),
    p.version,
    p.release,
    nul(p.arch),
    p.license,
    nul(p.sourceRpm),
    String(p.size),
    nul(p.installTime),
    nul(p.vendor),
    p.summary,
    nul(p.sigmd5),
    nul(p.sha256header),
    nul(p.sha1header),
    p.payloadDigest === null ? "<null>" : `${p.payloadDigest} `,
    p.signature === null ? "<null>" : p.signature.text,
    String(instance),
    nevra(p),
  ].join("\t");
}
