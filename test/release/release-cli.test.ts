/**
 * `cloud-images release` and `verify-release` end to end on a run's published legs: keys made by gpg
 * and node:crypto, gpgv and sha256sum -c checking what landed in the file store, verify-release on the
 * folder and over a local HTTP server, each tampering case failing with its own message, bad keys and
 * empty runs refused with nothing written, and the keyless path against an offline Fulcio/Rekor.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStore } from "../../src/publish/file-store.js";
import { formatChecksumFile, parseChecksumFile } from "../../src/release/checksum-file.js";
import { loadSigningKey, signDetached } from "../../src/release/openpgp.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../publish/helpers/files.js";
import { type GpgHome, gpgHome, gpgv } from "./helpers/gpg.js";
import { MOCK_IDENTITY, MOCK_ISSUER, startMockSigstore } from "./helpers/mock-sigstore.js";
import { type LegSpec, type PublishedLeg, publishLeg } from "./helpers/published-run.js";
import { serveDirectory } from "./helpers/static-server.js";

const work = tempDir("release-cli");
afterAll(() => work.cleanup());

const PASSPHRASE = "s3cret-Passphrase-for-release-9f1c";
const STAMP = "20260220143000";
const LEGS: LegSpec[] = [
  { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6", timeStamp: STAMP },
  { type: "gencloud", variant: "9", arch: "aarch64", release: "9.6", timeStamp: STAMP },
  {
    type: "gencloud_ext4",
    variant: "9",
    arch: "x86_64",
    release: "9.6",
    timeStamp: STAMP,
    tests: { offline: "failed" },
  },
];
const FOLDER = `images/9/9.6/gencloud/${STAMP}`;

let home: GpgHome;
let fingerprint: string;
let secretKey: string;
let otherSecret: string;
const keysDir = join(work.dir, "keys");
const env: Record<string, string> = {};

/** Every file under a directory, relative, sorted. */
function listing(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
    .sort();
}

/** A fresh store with the legs published into it, and their manifests. */
async function publishedRun(label: string, legs = LEGS) {
  const root = join(work.dir, label);
  const bucket = join(root, "bucket");
  const manifests = join(root, "manifests");
  const store = new FileStore(bucket);
  const published: PublishedLeg[] = [];
  for (const spec of legs) published.push(await publishLeg(store, join(root, "build"), manifests, spec));
  return { root, bucket, manifests, published, storeUrl: `file://${bucket}` };
}

beforeAll(() => {
  home = gpgHome(join(work.dir, "gnupg"));
  fingerprint = home.generate("AlmaLinux Cloud Images Test <cloud@example.org>", "ed25519", PASSPHRASE);
  secretKey = home.exportSecret(fingerprint, PASSPHRASE);
  const other = home.generate("Someone Else <else@example.org>", "ed25519", "");
  otherSecret = home.exportSecret(other, "");
  mkdirSync(keysDir, { recursive: true });
  writeFileSync(join(keysDir, "openpgp.pub.asc"), home.exportPublic(fingerprint));
  const att = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(join(keysDir, "attestation.pub.pem"), att.publicKey.export({ format: "pem", type: "spki" }));
  const otherAtt = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(
    join(keysDir, "other-attestation.pub.pem"),
    otherAtt.publicKey.export({ format: "pem", type: "spki" }),
  );
  Object.assign(env, {
    CLOUD_IMAGES_SIGNING_KEY: secretKey,
    CLOUD_IMAGES_SIGNING_PASSPHRASE: PASSPHRASE,
    CLOUD_IMAGES_ATTESTATION_KEY: att.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  });
});

const keyArgs = () => [
  "--key",
  join(keysDir, "openpgp.pub.asc"),
  "--attestation-key",
  join(keysDir, "attestation.pub.pem"),
];

function expectNoSecrets(output: string): void {
  expect(output).not.toContain(PASSPHRASE);
  for (const secret of [env.CLOUD_IMAGES_SIGNING_KEY!, env.CLOUD_IMAGES_ATTESTATION_KEY!]) {
    for (const line of secret.split("\n").filter((l) => l.length > 30 && !l.startsWith("-----"))) {
      expect(output).not.toContain(line.slice(0, 24));
    }
  }
}

describe("release to a file store, then verify-release", () => {
  let run: Awaited<ReturnType<typeof publishedRun>>;
  let releasedFolder: string;

  beforeAll(async () => {
    run = await publishedRun("main");
    const r = await runCli(["release", "--manifests", run.manifests, "--store", run.storeUrl], { env });
    expect(r.stderr).toContain("not released: gencloud_ext4 9 x86_64");
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets(r.stdout + r.stderr);
    releasedFolder = join(run.bucket, FOLDER);
  });

  it("writes CHECKSUM, CHECKSUM.asc, two bundles per image and the index; gpgv and sha256sum -c accept it", () => {
    const names = readdirSync(releasedFolder).filter(
      (n) => !n.endsWith(".meta.json") && !n.endsWith(".tags.json"),
    );
    const images = run.published.filter((p) => p.spec.tests === undefined).map((p) => p.imageName);
    expect(names.sort()).toEqual(
      [
        "CHECKSUM",
        "CHECKSUM.asc",
        ...images.flatMap((i) => [
          i,
          `${i}.sha256sum`,
          `${i}.txt`,
          `${i}.cdx.json`,
          `${i}.sigstore.json`,
          `${i}.test-result.sigstore.json`,
        ]),
      ].sort(),
    );
    const checksum = readFileSync(join(releasedFolder, "CHECKSUM"));
    const checked = gpgv(
      join(work.dir, "gpgv-main"),
      home.exportPublic(fingerprint),
      readFileSync(join(releasedFolder, "CHECKSUM.asc"), "utf8"),
      checksum,
    );
    expect(checked.output).toContain("Good signature");
    expect(checked.ok).toBe(true);
    const sums = execFileSync("sha256sum", ["-c", "--strict", "CHECKSUM"], {
      cwd: releasedFolder,
      encoding: "utf8",
    });
    expect(sums.trim().split("\n")).toHaveLength(12);
    expect(sums).not.toMatch(/FAILED/);
    for (const key of [
      "streams/v1/index.json",
      "streams/v1/com.almalinux.cloud:released:download.json",
      "streams/9.json",
    ]) {
      expect(existsSync(join(run.bucket, key)), key).toBe(true);
    }
    // The leg whose verification failed is in no index.
    const products = readFileSync(
      join(run.bucket, "streams/v1/com.almalinux.cloud:released:download.json"),
      "utf8",
    );
    expect(products).toContain("com.almalinux.cloud:gencloud:9:aarch64");
    expect(products).not.toContain("gencloud_ext4");
    const stream = JSON.parse(readFileSync(join(run.bucket, "streams/9.json"), "utf8"));
    expect(Object.keys(stream.architectures).sort()).toEqual(["aarch64", "x86_64"]);
  });

  it("verify-release passes on the folder and prints the provenance summary", async () => {
    const r = await runCli(["verify-release", releasedFolder, ...keyArgs()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`CHECKSUM.asc: good signature by ${fingerprint}`);
    expect(r.stdout).toContain("leg:       gencloud 9 x86_64, release 9.6, stamp 20260220143000");
    expect(r.stdout).toContain(`templates: https://github.com/AlmaLinux/cloud-images @ ${"a".repeat(40)}`);
    expect(r.stdout).toMatch(/tests: {5}WARNED \(2 passed; warned: verify\/root-partition\)/);
    expect(r.stdout).toMatch(/verified: 12 files, 2 attested image\(s\)/);
    const json = await runCli(["verify-release", releasedFolder, ...keyArgs(), "--json"]);
    const result = JSON.parse(json.stdout);
    expect(result.ok).toBe(true);
    expect(result.attestations.map((a: { image: string }) => a.image).sort()).toEqual(
      run.published
        .slice(0, 2)
        .map((p) => p.imageName)
        .sort(),
    );
  });

  it("verify-release passes over HTTP from a server serving the store", async () => {
    const server = await serveDirectory(run.bucket);
    try {
      const r = await runCli(["verify-release", `${server.url}/${FOLDER}`, ...keyArgs()]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/verified: 12 files/);
      expect(server.requests).toContain(`/${FOLDER}/CHECKSUM.asc`);
      const missing = await runCli(["verify-release", `${server.url}/images/none/`, ...keyArgs()]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(
        /^cloud-images: error: no CHECKSUM in http:\/\/127\.0\.0\.1:\d+\/images\/none\/\n$/,
      );
    } finally {
      await server.close();
    }
  });

  /** A copy of the released folder to break one thing in. */
  function copy(label: string): string {
    const dir = join(work.dir, "tampered", label);
    cpSync(releasedFolder, dir, { recursive: true });
    return dir;
  }
  const images = () => run.published.slice(0, 2).map((p) => p.imageName);
  async function resign(dir: string, secret = secretKey, passphrase: string | undefined = PASSPHRASE) {
    const key = await loadSigningKey({ armoredKey: secret, passphrase, keyFrom: "k", passphraseFrom: "p" });
    writeFileSync(join(dir, "CHECKSUM.asc"), await signDetached(readFileSync(join(dir, "CHECKSUM")), key));
  }

  it("each tampering fails with its own message (exit 1)", async () => {
    const [a, b] = images() as [string, string];
    const cases: [string, (dir: string) => Promise<void> | void, RegExp, string[]?][] = [
      [
        "image",
        (dir) => {
          const bytes = readFileSync(join(dir, a));
          bytes[1000] = bytes[1000]! ^ 0xff;
          writeFileSync(join(dir, a), bytes);
        },
        new RegExp(
          `^cloud-images: error: ${a.replaceAll(".", "\\.")}: SHA-256 [0-9a-f]{12}…, CHECKSUM says [0-9a-f]{12}…$`,
          "m",
        ),
      ],
      [
        "checksum-line",
        (dir) => {
          const text = readFileSync(join(dir, "CHECKSUM"), "utf8");
          const entry = parseChecksumFile(text).find((e) => e.name === a)!;
          writeFileSync(join(dir, "CHECKSUM"), text.replace(entry.sha256, "0".repeat(64)));
        },
        /^cloud-images: error: CHECKSUM\.asc does not match CHECKSUM \(CHECKSUM changed after it was signed/m,
      ],
      [
        "other-signer",
        (dir) => resign(dir, otherSecret, undefined),
        new RegExp(
          `^cloud-images: error: CHECKSUM\\.asc was made by key [0-9A-F]{16}, not by the given key \\(${fingerprint}\\)$`,
          "m",
        ),
      ],
      [
        "bundle-for-another-image",
        async (dir) => {
          // A consistent, correctly signed CHECKSUM whose bundle for A is B's.
          cpSync(join(dir, `${b}.sigstore.json`), join(dir, `${a}.sigstore.json`));
          const entries = parseChecksumFile(readFileSync(join(dir, "CHECKSUM"), "utf8")).map((e) =>
            e.name === `${a}.sigstore.json`
              ? {
                  ...e,
                  sha256: execFileSync("sha256sum", [join(dir, e.name)], { encoding: "utf8" }).slice(0, 64),
                  size: readFileSync(join(dir, e.name)).length,
                }
              : e,
          );
          writeFileSync(join(dir, "CHECKSUM"), formatChecksumFile(entries));
          await resign(dir);
        },
        new RegExp(
          `^cloud-images: error: ${a.replaceAll(".", "\\.")}\\.sigstore\\.json: its subject is ${b.replaceAll(".", "\\.")} \\(sha256 [0-9a-f]{12}…\\), not ${a.replaceAll(".", "\\.")} \\(sha256 [0-9a-f]{12}…\\)$`,
          "m",
        ),
      ],
      [
        "missing-file",
        (dir) => rmSync(join(dir, `${b}.txt`)),
        new RegExp(
          `^cloud-images: error: ${b.replaceAll(".", "\\.")}\\.txt: listed in CHECKSUM but not in `,
          "m",
        ),
      ],
      [
        "other-attestation-key",
        () => {},
        new RegExp(
          `^cloud-images: error: ${a.replaceAll(".", "\\.")}\\.sigstore\\.json: signed by key [0-9a-f]{64}, not by the given attestation key [0-9a-f]{64}$`,
          "m",
        ),
        [
          "--key",
          join(keysDir, "openpgp.pub.asc"),
          "--attestation-key",
          join(keysDir, "other-attestation.pub.pem"),
        ],
      ],
    ];
    for (const [label, tamper, message, args] of cases) {
      const dir = copy(label);
      await tamper(dir);
      const r = await runCli(["verify-release", dir, ...(args ?? keyArgs())]);
      expect(r.code, `${label}: ${r.stderr}`).toBe(1);
      expect(r.stderr, label).toMatch(message);
    }
  });
});

describe("bad input writes nothing", () => {
  let run: Awaited<ReturnType<typeof publishedRun>>;
  beforeAll(async () => {
    run = await publishedRun("bad", LEGS.slice(0, 1));
  });

  it("a malformed key, a wrong passphrase, a bad attestation key, an empty run: exit 2, one line, store untouched", async () => {
    const before = listing(run.bucket);
    const empty = join(run.root, "empty-run");
    mkdirSync(empty, { recursive: true });
    await publishLeg(new FileStore(run.bucket), join(run.root, "b2"), empty, { ...LEGS[2]! });
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { CLOUD_IMAGES_SIGNING_KEY: secretKey.slice(0, 300) },
        run.manifests,
        /^cloud-images: error: CLOUD_IMAGES_SIGNING_KEY is not a readable OpenPGP private key/,
      ],
      [
        { CLOUD_IMAGES_SIGNING_PASSPHRASE: "not-the-passphrase-4242" },
        run.manifests,
        /^cloud-images: error: CLOUD_IMAGES_SIGNING_PASSPHRASE does not unlock the key in CLOUD_IMAGES_SIGNING_KEY \([0-9A-F]{40}\)$/m,
      ],
      [
        { CLOUD_IMAGES_ATTESTATION_KEY: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" },
        run.manifests,
        /^cloud-images: error: CLOUD_IMAGES_ATTESTATION_KEY is not a readable PEM private key/,
      ],
      [
        {},
        empty,
        /^cloud-images: error: no published leg that passed its tests among 1 manifest\(s\): gencloud_ext4 9 x86_64 its verification failed$/m,
      ],
    ];
    for (const [override, manifests, message] of cases) {
      const r = await runCli(["release", "--manifests", manifests, "--store", run.storeUrl], {
        env: { ...env, ...override },
      });
      expect(r.code, r.stderr).toBe(2);
      expect(
        r.stderr
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("cloud-images: error:")),
      ).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr + r.stdout).not.toContain("not-the-passphrase-4242");
      expectNoSecrets(r.stderr + r.stdout);
      expect(listing(run.bucket)).toEqual(before);
    }
  });

  it("without keys: an unsigned CHECKSUM, no bundles, and warnings; verify-release then says it is unsigned", async () => {
    const unsigned = await publishedRun("unsigned", LEGS.slice(0, 1));
    const r = await runCli(["release", "--manifests", unsigned.manifests, "--store", unsigned.storeUrl], {
      env: {
        CLOUD_IMAGES_SIGNING_KEY: "",
        CLOUD_IMAGES_ATTESTATION_KEY: "",
        ACTIONS_ID_TOKEN_REQUEST_URL: "",
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /warning: CLOUD_IMAGES_SIGNING_KEY is not set: CHECKSUM files are written unsigned/,
    );
    expect(r.stderr).toMatch(/warning: no CLOUD_IMAGES_ATTESTATION_KEY and no OIDC token/);
    const folder = join(unsigned.bucket, FOLDER);
    expect(existsSync(join(folder, "CHECKSUM"))).toBe(true);
    expect(existsSync(join(folder, "CHECKSUM.asc"))).toBe(false);
    expect(readdirSync(folder).some((n) => n.endsWith(".sigstore.json"))).toBe(false);
    const v = await runCli(["verify-release", folder, "--key", join(keysDir, "openpgp.pub.asc")]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/error: CHECKSUM in .* is not signed \(no CHECKSUM\.asc\)$/m);
  });

  it("a missing key file or attestation key, and an unreadable folder, are bad input (exit 2, one line)", async () => {
    const folder = join(run.bucket, FOLDER);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["verify-release", folder, "--key", join(keysDir, "missing.asc")],
        {},
        /^cloud-images: error: cannot read key .*missing\.asc: no such file$/m,
      ],
      [
        ["verify-release", join(run.root, "nowhere"), "--key", join(keysDir, "openpgp.pub.asc")],
        {},
        /^cloud-images: error: .*nowhere does not exist$/m,
      ],
      [
        ["verify-release", folder, "--key", join(keysDir, "openpgp.pub.asc"), "--certificate-identity", "x"],
        {},
        /needs both --certificate-identity and --certificate-oidc-issuer/,
      ],
      [
        ["release", "--manifests", run.manifests, "--store", run.storeUrl, "--attestation", "key"],
        { CLOUD_IMAGES_ATTESTATION_KEY: "" },
        /^cloud-images: error: --attestation key needs CLOUD_IMAGES_ATTESTATION_KEY/m,
      ],
    ];
    const before = listing(run.bucket);
    for (const [args, extra, message] of cases) {
      const r = await runCli(args, { env: { ...env, ...extra } });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(listing(run.bucket)).toEqual(before);
  });

  it("release with neither mode's options explains both; the point-release form keeps working", async () => {
    const r = await runCli(["release"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /give --manifests DIR \(with --store URL\) to sign and index a run's legs, or --version V --arch A/,
    );
    const mixed = await runCli(["release", "--manifests", run.manifests, "--version", "9"]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/belong to the point-release lookup/);
    const kitten = await runCli(["release", "--version", "10-kitten", "--arch", "x86_64"]);
    expect(kitten.stdout).toBe("10\n");
    const renamed = await runCli(["point-release", "--version", "10-kitten", "--arch", "x86_64"]);
    expect(renamed.stdout).toBe("10\n");
  });
});

describe("keyless bundles through the CLI (offline Fulcio and Rekor)", () => {
  it("release --attestation keyless in a GitHub-like environment; verify-release checks identity and issuer", async () => {
    const sigstore = await startMockSigstore();
    try {
      const run = await publishedRun("keyless", LEGS.slice(0, 1));
      const r = await runCli(
        [
          "release",
          "--manifests",
          run.manifests,
          "--store",
          run.storeUrl,
          "--attestation",
          "keyless",
          "--fulcio-url",
          sigstore.url,
          "--rekor-url",
          sigstore.url,
        ],
        { env: { ...env, CLOUD_IMAGES_ATTESTATION_KEY: "", ...sigstore.env } },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(sigstore.requests.filter((p) => p === "/api/v2/signingCert")).toHaveLength(2);
      const root = join(run.root, "trusted_root.json");
      writeFileSync(root, JSON.stringify(sigstore.trustedRoot));
      const folder = join(run.bucket, FOLDER);
      const identity = ["--certificate-oidc-issuer", MOCK_ISSUER, "--trusted-root", root];
      const ok = await runCli([
        "verify-release",
        folder,
        "--key",
        join(keysDir, "openpgp.pub.asc"),
        "--certificate-identity",
        MOCK_IDENTITY,
        ...identity,
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`signed by: ${MOCK_IDENTITY} (issuer ${MOCK_ISSUER})`);
      const fork = await runCli([
        "verify-release",
        folder,
        "--key",
        join(keysDir, "openpgp.pub.asc"),
        "--certificate-identity",
        "https://github.com/someone/fork/.github/workflows/gencloud-build.yml@refs/heads/main",
        ...identity,
      ]);
      expect(fork.code).toBe(1);
      expect(fork.stderr).toMatch(
        /\.sigstore\.json: certificate identity error - expected https:\/\/github\.com\/someone\/fork/,
      );
    } finally {
      await sigstore.close();
    }
  });
});
