/**
 * CHECKSUM signatures made with the openpgp library, checked by Debian's gpgv and gpg (keys made by
 * gpg itself, with and without a passphrase, and by the library), and our own check of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigningKeyError, VerificationFailedError } from "../../src/errors.js";
import {
  generateSigningKey,
  loadSigningKey,
  readVerificationKeys,
  signDetached,
  verifyDetached,
} from "../../src/release/openpgp.js";
import { type GpgHome, gpgHome, gpgv } from "./helpers/gpg.js";

const work = mkdtempSync(join(tmpdir(), "release-openpgp-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PASSPHRASE = "correct horse battery staple 7f3a";
const data = Buffer.from(
  "# AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2: 591724544 bytes\n" +
    `${"3c".repeat(32)}  AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2\n`,
);
const names = { data: "CHECKSUM", signature: "CHECKSUM.asc" };
const source = (armoredKey: string, passphrase?: string) => ({
  armoredKey,
  passphrase,
  keyFrom: "CLOUD_IMAGES_SIGNING_KEY",
  passphraseFrom: "CLOUD_IMAGES_SIGNING_PASSPHRASE",
});

let home: GpgHome;
let ed25519: { fpr: string; secret: string };
let rsa: { fpr: string; secret: string };
beforeAll(() => {
  home = gpgHome(join(work, "gnupg"));
  const e = home.generate("Release Signing <release@example.org>", "ed25519", PASSPHRASE);
  ed25519 = { fpr: e, secret: home.exportSecret(e, PASSPHRASE) };
  const r = home.generate("RSA Signing <rsa@example.org>", "rsa2048", "");
  rsa = { fpr: r, secret: home.exportSecret(r, "") };
});

describe("signing CHECKSUM", () => {
  it("gpgv and gpg --verify accept signatures by gpg-made keys (ed25519 with a passphrase, RSA without)", async () => {
    for (const [i, { fpr, secret, passphrase }] of [
      { ...ed25519, passphrase: PASSPHRASE },
      { ...rsa, passphrase: undefined },
    ].entries()) {
      const key = await loadSigningKey(source(secret, passphrase));
      expect(key.fingerprint).toBe(fpr);
      const signature = await signDetached(data, key);
      expect(signature).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
      const checked = gpgv(join(work, `gpgv-${i}`), home.exportPublic(fpr), signature, data);
      expect(checked.output).toMatch(/Good signature from/);
      expect(checked.ok).toBe(true);
      home.gpg(["--verify", join(work, `gpgv-${i}`, "CHECKSUM.asc"), join(work, `gpgv-${i}`, "CHECKSUM")]);
      // One changed byte and gpgv says BAD.
      const bad = gpgv(
        join(work, `gpgv-bad-${i}`),
        home.exportPublic(fpr),
        signature,
        Buffer.from(data.toString().replace("3c3c", "3c3d")),
      );
      expect(bad.ok).toBe(false);
      expect(bad.output).toMatch(/BAD signature/);
      // Our check agrees, with gpg's binary export as well as the armored one.
      for (const exported of [home.exportPublic(fpr), home.exportPublic(fpr, false)]) {
        const keys = await readVerificationKeys(exported, "key");
        expect((await verifyDetached(data, signature, keys, names)).fingerprint).toBe(fpr);
      }
    }
  });

  it("gpgv accepts a signature by a key the library generates (the demo's throwaway key)", async () => {
    const pair = await generateSigningKey("Demo release key", "demo@localhost");
    const signature = await signDetached(data, await loadSigningKey(source(pair.privateKey)));
    const checked = gpgv(join(work, "gpgv-generated"), Buffer.from(pair.publicKey), signature, data);
    expect(checked.output).toContain(pair.fingerprint);
    expect(checked.ok).toBe(true);
  });

  it("refuses bad keys in one line that never quotes the key or the passphrase", async () => {
    const bodyLine = ed25519.secret.split("\n").find((l) => /^[A-Za-z0-9+/]{40,}$/.test(l))!;
    const truncated = ed25519.secret.split("\n").slice(0, 6).join("\n");
    const cases: [ReturnType<typeof source>, RegExp][] = [
      [
        source(ed25519.secret, "wrong passphrase 123"),
        /^CLOUD_IMAGES_SIGNING_PASSPHRASE does not unlock the key in CLOUD_IMAGES_SIGNING_KEY \([0-9A-F]{40}\)$/,
      ],
      [source(ed25519.secret), /is protected by a passphrase: set CLOUD_IMAGES_SIGNING_PASSPHRASE$/],
      [source(home.exportPublic(ed25519.fpr).toString()), /^CLOUD_IMAGES_SIGNING_KEY holds a public key/],
      [source("not a key at all"), /^CLOUD_IMAGES_SIGNING_KEY is not an ASCII-armored OpenPGP private key/],
      [source(truncated), /^CLOUD_IMAGES_SIGNING_KEY is not a readable OpenPGP private key/],
    ];
    for (const [given, message] of cases) {
      const error = await loadSigningKey(given).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SigningKeyError);
      const text = (error as Error).message;
      expect(text).toMatch(message);
      expect(text).not.toContain("wrong passphrase 123");
      expect(text).not.toContain(PASSPHRASE);
      expect(text).not.toContain(bodyLine.slice(0, 20));
      expect(text).not.toContain("\n");
    }
  });
});

describe("checking CHECKSUM.asc", () => {
  it("names what differs: another key, changed data, not a signature", async () => {
    const key = await loadSigningKey(source(rsa.secret));
    const signature = await signDetached(data, key);
    const other = await readVerificationKeys(home.exportPublic(ed25519.fpr), "other.asc");
    await expect(verifyDetached(data, signature, other, names)).rejects.toThrow(
      new RegExp(
        `^CHECKSUM.asc was made by key ${rsa.fpr.slice(-16)}, not by the given key \\(${ed25519.fpr}\\)$`,
      ),
    );
    const own = await readVerificationKeys(home.exportPublic(rsa.fpr), "rsa.asc");
    await expect(
      verifyDetached(Buffer.concat([data, Buffer.from("x")]), signature, own, names),
    ).rejects.toThrow(/^CHECKSUM.asc does not match CHECKSUM/);
    await expect(verifyDetached(data, "hello", own, names)).rejects.toBeInstanceOf(VerificationFailedError);
    await expect(readVerificationKeys(Buffer.from("junk"), "k.asc")).rejects.toThrow(
      /^k\.asc is not an OpenPGP public key/,
    );
  });
});
