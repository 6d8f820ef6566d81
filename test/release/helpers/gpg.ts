/** Keys made and signatures checked by Debian's GnuPG (gpg, gpgv) in a throwaway GNUPGHOME. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface GpgHome {
  readonly dir: string;
  gpg(args: readonly string[], input?: string | Buffer): Buffer;
  /** A new key; returns its fingerprint. */
  generate(userId: string, algo: "ed25519" | "rsa2048", passphrase: string): string;
  exportSecret(fingerprint: string, passphrase: string): string;
  exportPublic(fingerprint: string, armor?: boolean): Buffer;
}

export function gpgHome(dir: string): GpgHome {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const gpg = (args: readonly string[], input?: string | Buffer) =>
    execFileSync("gpg", ["--homedir", dir, "--batch", "--no-tty", "--quiet", ...args], {
      input,
      stdio: ["pipe", "pipe", "pipe"],
    });
  return {
    dir,
    gpg,
    generate(userId, algo, passphrase) {
      gpg([
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        passphrase,
        "--quick-generate-key",
        userId,
        algo,
        "sign",
        "never",
      ]);
      const colons = gpg(["--with-colons", "--list-secret-keys", userId]).toString();
      return /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
    },
    exportSecret(fingerprint, passphrase) {
      return gpg([
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        passphrase,
        "--armor",
        "--export-secret-keys",
        fingerprint,
      ]).toString();
    },
    exportPublic(fingerprint, armor = true) {
      return gpg([...(armor ? ["--armor"] : []), "--export", fingerprint]);
    },
  };
}

/** `gpgv --keyring KEYRING SIG DATA`: the exit code and its report. */
export function gpgv(
  dir: string,
  publicKey: Buffer,
  signature: string,
  data: Buffer,
): { ok: boolean; output: string } {
  mkdirSync(dir, { recursive: true });
  const keyring = join(dir, "keyring.gpg");
  // gpgv reads binary keyrings: dearmor with gpg.
  const binary = publicKey.toString("latin1").includes("-----BEGIN PGP")
    ? execFileSync("gpg", ["--batch", "--dearmor"], { input: publicKey })
    : publicKey;
  writeFileSync(keyring, binary);
  writeFileSync(join(dir, "CHECKSUM.asc"), signature);
  writeFileSync(join(dir, "CHECKSUM"), data);
  const r = spawnSync("gpgv", ["--keyring", keyring, join(dir, "CHECKSUM.asc"), join(dir, "CHECKSUM")], {
    encoding: "utf8",
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
