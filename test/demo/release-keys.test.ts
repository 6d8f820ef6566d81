/**
 * The demo's release keys: throwaway ones when the environment has none (their private halves only in
 * the child's environment, their public halves on disk), else the environment's, whose public halves
 * are derived and written. Signatures made with what the child gets verify with what is on disk (gpgv).
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { demoReleaseKeys } from "../../examples/demo/lib/release-keys.js";
import { loadSigningKey, signDetached } from "../../src/release/openpgp.js";
import { tempDir } from "../publish/helpers/files.js";
import { gpgHome, gpgv } from "../release/helpers/gpg.js";

const work = tempDir("demo-release-keys");
afterAll(() => work.cleanup());

const data = Buffer.from("0123  CHECKSUM line\n");

async function checkPair(dir: string, armoredPrivate: string, passphrase: string | undefined, pem: string) {
  const key = await loadSigningKey({
    armoredKey: armoredPrivate,
    passphrase,
    keyFrom: "k",
    passphraseFrom: "p",
  });
  const signature = await signDetached(data, key);
  const checked = gpgv(join(dir, "gpgv"), readFileSync(join(dir, "openpgp.pub.asc")), signature, data);
  expect(checked.ok, checked.output).toBe(true);
  const sig = sign("sha256", data, pem);
  expect(verify("sha256", data, createPublicKey(readFileSync(join(dir, "attestation.pub.pem"))), sig)).toBe(
    true,
  );
}

describe("the demo's release keys", () => {
  it("makes throwaway keys when none are set: private halves for the child only, public halves on disk", async () => {
    const dir = join(work.dir, "throwaway");
    const keys = await demoReleaseKeys(dir, {});
    expect(keys.generated).toEqual(["openpgp", "attestation"]);
    expect(readdirSync(dir).sort()).toEqual(["attestation.pub.pem", "openpgp.pub.asc"]);
    for (const file of readdirSync(dir))
      expect(readFileSync(join(dir, file), "utf8")).not.toContain("PRIVATE");
    await checkPair(
      dir,
      keys.env.CLOUD_IMAGES_SIGNING_KEY!,
      undefined,
      keys.env.CLOUD_IMAGES_ATTESTATION_KEY!,
    );
  });

  it("uses the environment's keys (a gpg key with a passphrase) and writes their public halves", async () => {
    const home = gpgHome(join(work.dir, "gnupg"));
    const fpr = home.generate("Release <r@example.org>", "ed25519", "pass phrase 1");
    const secret = home.exportSecret(fpr, "pass phrase 1");
    const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const dir = join(work.dir, "given");
    const keys = await demoReleaseKeys(dir, {
      CLOUD_IMAGES_SIGNING_KEY: secret,
      CLOUD_IMAGES_SIGNING_PASSPHRASE: "pass phrase 1",
      CLOUD_IMAGES_ATTESTATION_KEY: pem,
    });
    expect(keys.generated).toEqual([]);
    expect(keys.env).toEqual({});
    expect(keys.fingerprint).toBe(fpr);
    await checkPair(dir, secret, "pass phrase 1", pem);
  });
});
