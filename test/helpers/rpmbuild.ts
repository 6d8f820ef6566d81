/**
 * Builds small, real RPMs with Debian's rpmbuild for tests, and installs them into an rpm database with
 * Debian's rpm. Built packages are cached under .cache/rpmbuild/<hash of the recipe>/.
 *
 *   const rpms = buildRpms({ target: "x86_64", packages: [{ name: "almalinux-release", version: "9.6", release: "1.el9" }] });
 *   const root = installRpms(rpms);            // root/var/lib/rpm/rpmdb.sqlite
 *   rpmQuery(join(root, "var/lib/rpm"), "%{NAME}\\n");
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./process.js";

export const CACHE_DIR = fileURLToPath(new URL("../../.cache/rpmbuild", import.meta.url));

export interface RpmPackageSpec {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  summary?: string;
  license?: string;
  /** Build it as noarch instead of the target arch. */
  noarch?: boolean;
  /** Files to ship: absolute path → content. Default: /usr/share/fixture/<name> containing the name. */
  files?: Record<string, string>;
  /** Extra small files /usr/share/<name>/f-N (inflate the header: each adds a path, digest, owner...). */
  manyFiles?: number;
  /** Changelog entries (inflate the header). */
  changelogEntries?: number;
  /** Size of /usr/share/<name>/random.bin, random bytes (a large, incompressible payload). */
  randomFileBytes?: number;
  /** %files attributes of some of `files` (or of `ghosts`), e.g. "%config(noreplace)", "%verify(not md5 size mtime)". */
  attrs?: Record<string, string>;
  /** Symlinks to ship: absolute path → target. */
  symlinks?: Record<string, string>;
  /** %ghost files: listed, not shipped. */
  ghosts?: string[];
}

export interface RpmBuildRecipe {
  /** rpmbuild --target: x86_64, aarch64, x86_64_v2... */
  target: string;
  /** The first is the spec's main package, the others its subpackages (`%package -n`). */
  packages: RpmPackageSpec[];
  vendor?: string;
}

const SAFE = /^[A-Za-z0-9._+~^-]+$/;

function check(value: string, what: string): string {
  if (!SAFE.test(value)) throw new Error(`rpmbuild helper: unsafe ${what} "${value}"`);
  return value;
}

function checkPath(value: string): string {
  if (!/^[A-Za-z0-9._+~^/-]+$/.test(value)) throw new Error(`rpmbuild helper: unsafe path "${value}"`);
  return value;
}

function filesOf(p: RpmPackageSpec): Record<string, string> {
  const files = { ...(p.files ?? { [`/usr/share/fixture/${p.name}`]: p.name }) };
  for (let i = 0; i < (p.manyFiles ?? 0); i++) files[`/usr/share/${p.name}/f-${i}`] = `${p.name} ${i}`;
  return files;
}

/** The spec text for a recipe. */
export function specFor(recipe: RpmBuildRecipe): string {
  const [main, ...subs] = recipe.packages;
  if (!main) throw new Error("rpmbuild helper: no packages");
  const preamble = (p: RpmPackageSpec) => {
    const lines = [
      `Version: ${check(p.version, "version")}`,
      `Release: ${check(p.release, "release")}`,
      `Summary: ${p.summary ?? `test package ${p.name}`}`,
      `License: ${p.license ?? "MIT"}`,
    ];
    if (p.epoch !== undefined) lines.push(`Epoch: ${p.epoch}`);
    if (p.noarch) lines.push("BuildArch: noarch");
    return lines.join("\n");
  };
  const out: string[] = [`Name: ${check(main.name, "name")}`, preamble(main)];
  if (recipe.vendor) out.push(`Vendor: ${recipe.vendor}`);
  out.push("%description", `Test package ${main.name}.`);
  for (const p of subs) {
    out.push(
      `%package -n ${check(p.name, "name")}`,
      preamble(p),
      `%description -n ${p.name}`,
      `Test package ${p.name}.`,
    );
  }
  out.push("%install");
  for (const p of recipe.packages) {
    for (const [path, content] of Object.entries(filesOf(p))) {
      const b64 = Buffer.from(content).toString("base64");
      out.push(
        `mkdir -p "$(dirname "%{buildroot}${path}")"`,
        `echo ${b64} | base64 -d > "%{buildroot}${path}"`,
      );
    }
  }
  for (const p of recipe.packages) {
    for (const [path, target] of Object.entries(p.symlinks ?? {})) {
      out.push(
        `mkdir -p "$(dirname "%{buildroot}${path}")"`,
        `ln -s ${checkPath(target)} "%{buildroot}${path}"`,
      );
    }
  }
  for (const p of recipe.packages) {
    if (p.randomFileBytes) {
      out.push(`mkdir -p %{buildroot}/usr/share/${p.name}`);
      out.push(`head -c ${p.randomFileBytes} /dev/urandom > %{buildroot}/usr/share/${p.name}/random.bin`);
    }
  }
  for (const [i, p] of recipe.packages.entries()) {
    const random = p.randomFileBytes ? [`/usr/share/${p.name}/random.bin`] : [];
    const listed = [...Object.keys(filesOf(p)), ...Object.keys(p.symlinks ?? {})].map((f) =>
      p.attrs?.[f] ? `${p.attrs[f]} ${f}` : f,
    );
    const ghosts = (p.ghosts ?? []).map((f) => `%ghost ${p.attrs?.[f] ?? ""} ${f}`.replace(/ +/g, " "));
    out.push(i === 0 ? "%files" : `%files -n ${p.name}`, ...listed, ...ghosts, ...random);
  }
  const entries = main.changelogEntries ?? 0;
  if (entries > 0) {
    out.push("%changelog");
    for (let i = 0; i < entries; i++) {
      out.push(`* Mon Jan 01 2024 Test Packager <test@example.invalid> - ${main.version}-${i}`);
      out.push(`- change number ${i}: ${"a fairly long line of text describing it ".repeat(3)}`, "");
    }
  }
  return `${out.join("\n")}\n`;
}

/** Builds (or takes from the cache) the recipe's RPMs; returns their paths, main package first. */
export function buildRpms(recipe: RpmBuildRecipe): string[] {
  const spec = specFor(recipe);
  const rpmbuildVersion = execFileSync("rpmbuild", ["--version"], { encoding: "utf8" }).trim();
  const key = createHash("sha256")
    .update(`${rpmbuildVersion}\n${recipe.target}\n${spec}`)
    .digest("hex")
    .slice(0, 16);
  const dir = join(CACHE_DIR, key);
  const names = recipe.packages.map((p) => p.name);
  if (!existsSync(dir)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const work = mkdtempSync(join(CACHE_DIR, `.build-${key}-`));
    try {
      for (const d of ["SPECS", "RPMS", "BUILD", "BUILDROOT", "SRPMS", "SOURCES"]) mkdirSync(join(work, d));
      writeFileSync(join(work, "SPECS", "p.spec"), spec);
      execFileSync(
        "rpmbuild",
        [
          "--quiet",
          "--define",
          `_topdir ${work}`,
          "--define",
          "_binary_payload w1.gzdio",
          "--define",
          "_build_id_links none",
          "--target",
          recipe.target,
          "-bb",
          join(work, "SPECS", "p.spec"),
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      const out = join(work, "out");
      mkdirSync(out);
      for (const arch of readdirSync(join(work, "RPMS"))) {
        for (const f of readdirSync(join(work, "RPMS", arch)))
          cpSync(join(work, "RPMS", arch, f), join(out, f));
      }
      try {
        renameSync(out, dir);
      } catch {
        // Another test process built the same recipe first; its copy is identical in content.
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const files = readdirSync(dir);
  return names.map((n) => {
    const f = files.find(
      (x) => x.startsWith(`${n}-`) && x.slice(n.length + 1).match(/^[^-]+-[^-]+\.[^.]+\.rpm$/),
    );
    if (!f) throw new Error(`rpmbuild helper: ${n} was not built`);
    return join(dir, f);
  });
}

/**
 * Installs RPMs into `root` (a new temp dir when omitted) with Debian's rpm, as the issue describes:
 * the database lands in root/var/lib/rpm (rpmdb.sqlite). Returns the root.
 */
export function installRpms(rpms: readonly string[], root = mkdtempSync(join(tmpdir(), "rpmroot-"))): string {
  mkdirSync(join(root, "var/lib/rpm"), { recursive: true });
  const r = spawnSync(
    "rpm",
    [
      "--root",
      root,
      "--dbpath",
      "/var/lib/rpm",
      "-i",
      "--nodeps",
      "--ignorearch",
      "--noscripts",
      "--nosignature",
      ...rpms,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`rpm -i failed: ${r.stderr}`);
  rmSync(join(root, "var/lib/rpm/.rpm.lock"), { force: true });
  return root;
}

/**
 * Debian's rpm as the oracle: `rpm --dbpath DIR -qa --qf FORMAT`, on a private copy of DIR (rpm may
 * create -wal/-shm files and locks next to a database it opens). `bdb` reads a Berkeley DB.
 */
export function rpmQuery(dbDir: string, queryFormat: string, options: { bdb?: boolean } = {}): string {
  const copy = mkdtempSync(join(tmpdir(), "rpmq-"));
  try {
    cpSync(dbDir, copy, { recursive: true });
    const args = ["--dbpath", copy];
    if (options.bdb) args.push("--define", "_db_backend bdb_ro");
    args.push("-qa", "--qf", queryFormat);
    const r = spawnSync("rpm", args, { encoding: "utf8", env: { ...process.env, TZ: "UTC", LC_ALL: "C" } });
    if (r.status !== 0) throw new Error(`rpm -qa failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * `rpm -qp --qf FORMAT FILE` (FILE may be an http:// URL, as the seed uses it). Asynchronous, so a test
 * can serve that URL from its own process.
 */
export async function rpmQueryPackage(file: string, queryFormat: string): Promise<string> {
  const r = await runCommand("rpm", ["-qp", "--nosignature", "--nodigest", "--qf", queryFormat, file], {
    env: { TZ: "UTC", LC_ALL: "C" },
  });
  if (r.code !== 0) throw new Error(`rpm -qp failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export interface SigningKey {
  /** GNUPGHOME holding the secret key. */
  home: string;
  /** User ID, as rpmsign's _gpg_name. */
  name: string;
  fingerprint: string;
  /** ASCII-armoured public key, for `rpm --import`. */
  publicKeyFile: string;
}

const KEY_ALGOS = { rsa: "rsa2048", eddsa: "ed25519" } as const;

/** A throwaway OpenPGP signing key, made once with gpg and cached under .cache/gnupg/<kind>. */
export function testSigningKey(kind: keyof typeof KEY_ALGOS): SigningKey {
  const base = fileURLToPath(new URL("../../.cache/gnupg", import.meta.url));
  const home = join(base, kind);
  const name = `Cloud Images Test ${kind} <test-${kind}@example.invalid>`;
  const publicKeyFile = join(home, "public.asc");
  if (!existsSync(publicKeyFile)) {
    mkdirSync(base, { recursive: true });
    const work = mkdtempSync(join(base, `.${kind}-`));
    const env = { ...process.env, GNUPGHOME: work };
    try {
      execFileSync(
        "gpg",
        ["--batch", "--passphrase", "", "--quick-gen-key", name, KEY_ALGOS[kind], "sign", "never"],
        {
          env,
          stdio: "ignore",
        },
      );
      writeFileSync(
        join(work, "public.asc"),
        execFileSync("gpg", ["--armor", "--export"], { env, stdio: ["ignore", "pipe", "ignore"] }),
      );
    } finally {
      spawnSync("gpgconf", ["--kill", "gpg-agent"], { env, stdio: "ignore" });
    }
    try {
      renameSync(work, home);
    } catch {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const env = { ...process.env, GNUPGHOME: home };
  const colons = execFileSync("gpg", ["--with-colons", "--list-keys"], { env, encoding: "utf8" });
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(colons)![1]!;
  return { home, name, fingerprint, publicKeyFile };
}

/** Signed copies of RPMs (rpmsign --addsign with `key`), cached by the RPMs' paths and the key. */
export function signRpms(
  rpms: readonly string[],
  key: SigningKey,
  digest: "sha256" | "sha512" = "sha256",
): string[] {
  const id = createHash("sha256")
    .update(`${rpms.join("\n")}\n${key.fingerprint}\n${digest}`)
    .digest("hex")
    .slice(0, 16);
  const dir = join(CACHE_DIR, `signed-${id}`);
  const out = (f: string) => join(dir, basename(f));
  if (!existsSync(dir)) {
    const work = mkdtempSync(join(CACHE_DIR, `.sign-${id}-`));
    const env = { ...process.env, GNUPGHOME: key.home };
    try {
      for (const f of rpms) cpSync(f, join(work, basename(f)));
      const r = spawnSync(
        "rpmsign",
        [
          "--define",
          "__gpg /usr/bin/gpg",
          "--define",
          `_gpg_name ${key.name}`,
          "--define",
          `_gpg_digest_algo ${digest}`,
          "--addsign",
          ...rpms.map((f) => join(work, basename(f))),
        ],
        { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
      if (r.status !== 0) throw new Error(`rpmsign failed: ${r.stderr}`);
      try {
        renameSync(work, dir);
      } catch {
        // built concurrently by another test process
      }
    } finally {
      spawnSync("gpgconf", ["--kill", "gpg-agent"], { env, stdio: "ignore" });
      rmSync(work, { recursive: true, force: true });
    }
  }
  return rpms.map(out);
}

/** Imports a public key into the root's database: rpm makes a gpg-pubkey pseudo-package (no ARCH). */
export function importKey(root: string, key: SigningKey): void {
  const r = spawnSync("rpm", ["--root", root, "--dbpath", "/var/lib/rpm", "--import", key.publicKeyFile], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`rpm --import failed: ${r.stderr}`);
  rmSync(join(root, "var/lib/rpm/.rpm.lock"), { force: true });
}
