// imagegen's packages are shaped like AlmaLinux's: signed (rpm checks the signatures against the key the
// image imports), headers of real size (file lists with digests, modes and owners, changelogs,
// dependencies), and every file they list is in the image as listed (rpm -Va over the image's tree).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import { publicKeyArmor, signingKey, signRpms } from "../../imagegen/rpmsign.js";
import { parseRpmFile } from "../../src/rpm/rpmfile.js";
import { runCommand } from "../helpers/process.js";
import { buildRpms as buildTestRpms } from "../helpers/rpmbuild.js";
import { SPECS } from "../inspect/images.js";
import { debugfs, sh, tempDir } from "./oracles.js";

let tmp: string;
let img: BuiltImage;
/** The image's root tree as debugfs dumps it (modes, owners, times kept). */
let tree: string;
const DB = "/var/lib/rpm";

beforeAll(async () => {
  tmp = tempDir("rpm-realism");
  img = await buildImage(SPECS.bare);
  tree = join(tmp, "tree");
  mkdirSync(tree);
  debugfs(img.paths.raw!, `rdump / ${tree}`);
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** rpm on the dumped tree; exit code and output. */
async function rpm(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCommand("rpm", ["--root", tree, "--dbpath", DB, ...args], { env: { LC_ALL: "C" } });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("imagegen's RPMs", () => {
  it("list exactly the files the image holds: rpm -Va finds nothing, and finds a changed file", async () => {
    const clean = await rpm("-Va");
    expect(clean.out).toBe("");
    expect(clean.code).toBe(0);
    // the check can fail: one changed byte in one packaged file
    const file = (await rpm("-ql", "bash")).out.split("\n").find((f) => f.startsWith("/usr/bin/"))!;
    const bytes = readFileSync(join(tree, file));
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(join(tree, file), bytes);
    const changed = await rpm("-V", "bash");
    expect(changed.out).toMatch(new RegExp(`^..5\\S*\\s+${file}$`, "m"));
    expect(changed.code).toBe(1);
  });

  it("have headers of real size and shape: files, changelogs, dependencies, RSA signatures", async () => {
    const qf =
      "%{NAME}\\t%{FILENAMES:arraysize}\\t%{CHANGELOGTIME:arraysize}\\t%{REQUIRENAME:arraysize}\\t" +
      "%{RSAHEADER:pgpsig}\\t%{SIGPGP:pgpsig}\\n";
    const rows = (await rpm("-qa", "--qf", qf)).out
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const packages = rows.filter(([name]) => name !== "gpg-pubkey");
    expect(packages.length).toBe(img.expected.packageNames.length - 1);
    const key = signingKey().keyId.toString("hex");
    for (const [name, files, changes, requires, rsa, pgp] of packages) {
      expect(Number(files), name).toBeGreaterThan(0);
      expect(Number(changes), name).toBeGreaterThan(0);
      expect(Number(requires), name).toBeGreaterThan(0);
      expect(rsa, name).toMatch(new RegExp(`^RSA/SHA256, .*, Key ID ${key}$`));
      expect(pgp, name).toBe(rsa);
    }
    // rpm's own file classes, digests, owners and %config/%doc/%lang/%ghost flags are there
    const files = (
      await rpm("-qa", "--qf", "[%{FILEDIGESTS} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\\n]")
    ).out;
    for (const flag of ["c", "d", "l", "g"]) expect(files).toMatch(new RegExp(` \\S*${flag}\\S*$`, "m"));
    expect(files).toMatch(/^[0-9a-f]{64} /m);
    expect(files).toMatch(/ (daemon:daemon|root:adm|root:wheel|bin:bin) /);
    const blobs = sh("sqlite3", [join(tree, DB, "rpmdb.sqlite"), "SELECT avg(length(blob)) FROM Packages"]);
    expect(Number(blobs)).toBeGreaterThan(12_000);
  });

  it("import the signing key, and rpm checks each package's signatures with it", async () => {
    const key = (await rpm("-q", "--qf", "%{VERSION}\\n", "gpg-pubkey")).out.trim();
    expect(key).toBe(signingKey().keyId.toString("hex").slice(8));
    // a package the tests build, signed by imagegen's signer, checked by rpmkeys with the key imported
    const [built] = buildTestRpms({
      target: "x86_64",
      packages: [{ name: "signed-probe", version: "1", release: "1", manyFiles: 3 }],
    });
    const pkg = join(tmp, "signed-probe.rpm");
    copyFileSync(built!, pkg);
    await signRpms([pkg], 1735693200);
    const keys = join(tmp, "keys");
    mkdirSync(keys);
    writeFileSync(join(tmp, "key.asc"), await publicKeyArmor(signingKey()));
    sh("rpmkeys", ["--dbpath", keys, "--import", join(tmp, "key.asc")]);
    const check = await runCommand("rpmkeys", ["--dbpath", keys, "--checksig", "-v", pkg]);
    expect(check.stdout).toMatch(/Header V4 RSA\/SHA256 Signature, key ID \w+: OK/);
    expect(check.stdout).toMatch(/^\s+V4 RSA\/SHA256 Signature, key ID \w+: OK/m);
    expect(check.code).toBe(0);
    // the header and the file still parse as rpm's own do, and damage to the payload is caught
    const bytes = readFileSync(pkg);
    const parsed = parseRpmFile(bytes);
    expect(parsed.complete && parsed.metadata.signature.has(268)).toBe(true);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(pkg, bytes);
    const bad = await runCommand("rpmkeys", ["--dbpath", keys, "--checksig", "-v", pkg]);
    expect(bad.stdout).toMatch(/Header V4 RSA\/SHA256 Signature, key ID \w+: OK/);
    expect(bad.stdout).toMatch(/^\s+V4 RSA\/SHA256 Signature, key ID \w+: BAD/m);
    expect(bad.code).toBe(1);
  });
});
