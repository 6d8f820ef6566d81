/**
 * What each generated package ships, shaped like a real AlmaLinux package so its header has the size and
 * shape of a real one: a license and docs, man pages, programs (some shell scripts), a versioned library
 * with its soname symlink, %config files, translations (%lang), a %ghost log, owned directories with
 * their own modes and owners, a heavy-tailed number of data files, dependencies, scriptlets and a
 * description. Everything is derived from the package's name (the same name always gives the same
 * package); contents are small so images stay cheap.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { PlannedPackage } from "./packages.js";

/** One entry of a package's file list. */
export interface PackageFile {
  /** Absolute path inside the image. */
  path: string;
  type: "file" | "dir" | "symlink";
  /** Permission bits (0o7777 range). */
  mode: number;
  user: string;
  group: string;
  /** Regular files: the bytes rpm installs (%ghost files: none, rpm installs nothing). */
  content?: Buffer;
  /** Symlinks: the target. */
  target?: string;
  /** The rpm %files attribute, if any. */
  attr?: "config" | "doc" | "license" | "ghost";
  /** %lang(xx). */
  lang?: string;
  /** Already in the payload directory (written there in bulk, e.g. the filler): staging leaves it. */
  staged?: boolean;
}

export interface PackageContent {
  description: string;
  files: PackageFile[];
  requires: string[];
  recommends: string[];
  provides: string[];
  /** Scriptlet bodies by section (post, preun, postun); rpm records them, the install runs none. */
  scripts: Partial<Record<"post" | "preun" | "postun", string>>;
}

/**
 * Owners used besides root. They must exist in the image's /etc/passwd and /etc/group (tree.ts) when
 * rpm installs, or rpm falls back to root and the file would not match its header.
 */
const OWNERS: readonly [string, string][] = [
  ["root", "adm"],
  ["root", "wheel"],
  ["daemon", "daemon"],
  ["bin", "bin"],
];

/** What every arch package needs from glibc (and glibc provides), as rpm's ELF dependency generator writes it. */
const GLIBC_PROVIDES = ["libc.so.6()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)", "rtld(GNU_HASH)"];

const LANGS = [
  "ar",
  "bg",
  "ca",
  "cs",
  "da",
  "de",
  "el",
  "es",
  "fi",
  "fr",
  "hu",
  "id",
  "it",
  "ja",
  "ko",
  "nb",
  "nl",
  "pl",
  "pt",
  "pt_BR",
  "ro",
  "ru",
  "sk",
  "sl",
  "sr",
  "sv",
  "tr",
  "uk",
  "zh_CN",
  "zh_TW",
];

const WORDS = (
  "the a of to and for with on in is are by from this that file files system service daemon " +
  "configuration support library tools utility network kernel package user data default option " +
  "command line interface provides allows runs reads writes manages handles cloud image boot " +
  "storage device driver security policy module plugin format version release update fix build " +
  "install remove check verify log logs error errors message messages time memory disk address"
).split(" ");

/** A small deterministic PRNG (xorshift32) seeded from a string. */
export function seeded(seed: string): () => number {
  let x = createHash("sha256").update(seed).digest().readUInt32LE(0) || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
export const between = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Sentences of filler prose. */
export function prose(r: () => number, sentences: number): string {
  const out: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words = Array.from({ length: between(r, 6, 16) }, () => pick(r, WORDS));
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    out.push(`${words.join(" ")}.`);
  }
  return out.join(" ");
}

/** `n` incompressible-looking bytes (fast: xorshift words, not a hash per block). */
function noise(r: () => number, n: number, prefix = ""): Buffer {
  const b = Buffer.alloc(n);
  const head = Buffer.from(prefix, "latin1");
  head.copy(b);
  for (let i = head.length; i + 4 <= n; i += 4) b.writeUInt32LE((r() * 4294967296) >>> 0, i);
  return b;
}

function text(r: () => number, lines: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(prose(r, 1));
  return Buffer.from(`${out.join("\n")}\n`);
}

/** A GNU message catalog stand-in: the real magic, then filler. */
function moFile(r: () => number): Buffer {
  return noise(r, between(r, 512, 3072), "\xde\x12\x04\x95\0\0\0\0");
}

/**
 * The package's content. `others` are the image's packages (dependencies point at them, so every
 * requirement is met inside the image); `evr` is its [epoch:]version-release.
 */
export function packageContent(
  p: PlannedPackage,
  evr: string,
  others: readonly PlannedPackage[],
): PackageContent {
  const r = seeded(`content:${p.name}`);
  const name = p.name;
  const files: PackageFile[] = [];
  const file = (path: string, content: Buffer, extra: Partial<PackageFile> = {}) =>
    files.push({ path, type: "file", mode: 0o644, user: "root", group: "root", content, ...extra });
  const dir = (path: string, extra: Partial<PackageFile> = {}) =>
    files.push({ path, type: "dir", mode: 0o755, user: "root", group: "root", ...extra });

  const lib = p.noarch ? "/usr/share" : "/usr/lib64";
  const doc = `/usr/share/doc/${name}`;
  dir(doc);
  file(`${doc}/README`, Buffer.from(`${name} ${evr}\n\n${prose(r, between(r, 3, 12))}\n`), { attr: "doc" });
  if (r() < 0.5) file(`${doc}/NEWS`, text(r, between(r, 10, 60)), { attr: "doc" });
  dir(`/usr/share/licenses/${name}`);
  file(`/usr/share/licenses/${name}/COPYING`, text(r, between(r, 20, 80)), { attr: "license" });

  const programs = p.noarch ? between(r, 0, 2) : between(r, 1, 5);
  for (let i = 0; i < programs; i++) {
    const bin = i === 0 ? name : `${name}-${pick(r, ["ctl", "helper", "tool", "check", "query", "run"])}${i}`;
    const script = r() < 0.3;
    const body = script
      ? Buffer.from(`#!/bin/sh\n# ${bin}\n${text(r, between(r, 2, 20)).toString()}exit 0\n`)
      : noise(r, between(r, 1024, 12288), "\x7fIMG\x02\x01\x01");
    file(`/usr/bin/${bin}`, body, { mode: 0o755 });
    if (r() < 0.7) {
      const man = gzipSync(text(r, between(r, 20, 120)), { level: 9 });
      file(`/usr/share/man/man1/${bin}.1.gz`, man);
    }
  }
  const provides: string[] = [];
  if (!p.noarch && r() < 0.6) {
    const major = between(r, 0, 9);
    const real = `lib${name}.so.${major}.${between(r, 0, 40)}.${between(r, 0, 9)}`;
    file(`/usr/lib64/${real}`, noise(r, between(r, 2048, 24576), "\x7fIMG\x02\x01\x01"), { mode: 0o755 });
    files.push({
      path: `/usr/lib64/lib${name}.so.${major}`,
      type: "symlink",
      mode: 0o777,
      user: "root",
      group: "root",
      target: real,
    });
    provides.push(`lib${name}.so.${major}()(64bit)`);
  }
  if (r() < 0.4) {
    const etc = `/etc/${name}`;
    dir(etc);
    const confs = between(r, 1, 3);
    for (let i = 0; i < confs; i++) {
      const secret = r() < 0.2;
      const [user, group] = secret ? pick(r, OWNERS) : ["root", "root"];
      file(`${etc}/${i === 0 ? name : `${name}-${i}`}.conf`, text(r, between(r, 3, 40)), {
        attr: "config",
        mode: secret ? 0o640 : 0o644,
        user,
        group,
      });
    }
    if (r() < 0.5) file(`/usr/share/man/man5/${name}.conf.5.gz`, gzipSync(text(r, between(r, 10, 60))));
  }
  if (r() < 0.25) {
    for (const lang of LANGS.slice(0, between(r, 8, LANGS.length))) {
      file(`/usr/share/locale/${lang}/LC_MESSAGES/${name}.mo`, moFile(r), { lang });
    }
  }
  if (r() < 0.2) {
    const [user, group] = pick(r, OWNERS);
    dir(`/var/lib/${name}`, { mode: 0o750, user, group });
    files.push({
      path: `/var/log/${name}.log`,
      type: "file",
      mode: 0o600,
      user: "root",
      group: "root",
      attr: "ghost",
    });
  }
  // Heavy tail: most packages have a few data files, some hundreds (modules, plugins, data sets).
  const data = Math.floor(160 * r() ** 4);
  if (data > 0) {
    const base = `${lib}/${name}`;
    dir(base);
    const subdirs = Math.max(1, Math.floor(data / 40));
    for (let d = 0; d < subdirs; d++) dir(`${base}/${pick(r, WORDS)}-${d}`);
    for (let i = 0; i < data; i++) {
      const sub = files.filter((f) => f.type === "dir" && f.path.startsWith(`${base}/`))[i % subdirs]!.path;
      const ext = p.noarch ? pick(r, [".dat", ".txt", ".json", ".xml"]) : pick(r, [".so", ".mod", ".dat"]);
      const content =
        ext === ".txt" || ext === ".json" ? text(r, between(r, 1, 30)) : noise(r, between(r, 64, 2048));
      file(`${sub}/${pick(r, WORDS)}-${i}${ext}`, content, { mode: ext === ".so" ? 0o755 : 0o644 });
    }
  }

  const requires: string[] = [];
  const recommends: string[] = [];
  if (others.length > 0) {
    for (let i = between(r, 1, 12); i > 0; i--) {
      const dep = pick(r, others);
      if (dep.name === name || requires.some((q) => q.split(" ")[0] === dep.name)) continue;
      requires.push(r() < 0.3 ? `${dep.name} >= ${dep.version}` : dep.name);
    }
    if (r() < 0.2) recommends.push(pick(r, others).name);
  }
  const has = (n: string) => others.some((o) => o.name === n);
  if (!p.noarch && has("glibc") && name !== "glibc") requires.push(...GLIBC_PROVIDES);
  if (name === "glibc") provides.push(...GLIBC_PROVIDES);
  if (name === "bash") provides.push("/bin/sh");
  if (r() < 0.3) {
    provides.push(`bundled(${pick(r, WORDS)}-${pick(r, WORDS)}) = ${between(r, 0, 9)}.${between(r, 0, 9)}`);
  }

  const scripts: PackageContent["scripts"] = {};
  if (r() < 0.3) {
    scripts.post = `if [ $1 -eq 1 ] ; then\n    systemctl --no-reload preset ${name}.service >/dev/null 2>&1 || :\nfi\n`;
    scripts.preun = `if [ $1 -eq 0 ] ; then\n    systemctl --no-reload disable --now ${name}.service >/dev/null 2>&1 || :\nfi\n`;
    scripts.postun = "/sbin/ldconfig\n";
  }
  return { description: prose(r, between(r, 2, 10)), files, requires, recommends, provides, scripts };
}
