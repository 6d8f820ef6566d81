/**
 * Databases made by Debian's rpm from RPMs built here, read by our readers and by rpm itself (the
 * oracle): sqlite as rpm wrote it, and Berkeley DB `Packages` files made from the same headers with
 * db5.3_load in several shapes (page sizes, fill factors, byte orders), read by rpm's bdb_ro backend.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareC, hostRpmdbDir, readRpmdb } from "../../src/rpm/index.js";
import { type BdbOptions, sqliteToBdb } from "../helpers/bdb.js";
import { rpmQuery } from "../helpers/rpmbuild.js";
import { dbDir, generatedRoot, ORACLE_FORMAT, ourLine, type Target } from "./generated.js";

function oracleLines(dir: string, bdb = false): string[] {
  return rpmQuery(dir, `${ORACLE_FORMAT}\n`, { bdb }).split("\n").filter(Boolean);
}

const BDB_SHAPES: [string, BdbOptions & { indexes?: boolean }][] = [
  ["little-endian, 4 KiB pages (overflow items)", {}],
  [
    "little-endian, 512-byte pages, fill factor 1 (many buckets, long overflow chains)",
    { pageSize: 512, ffactor: 1, indexes: false },
  ],
  [
    "big-endian, 64 KiB pages (items on the bucket pages)",
    { bigEndian: true, pageSize: 65536, indexes: false },
  ],
  [
    "big-endian, 8 KiB pages, no key-0 record",
    { bigEndian: true, pageSize: 8192, noKey0: true, indexes: false },
  ],
];

describe.each(["x86_64", "aarch64", "x86_64_v2"] as Target[])("generated rpmdb, %s", (target) => {
  let root: string;
  let bdbBase: string;
  beforeAll(() => {
    root = generatedRoot(target);
    bdbBase = mkdtempSync(join(tmpdir(), "bdb-"));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(bdbBase, { recursive: true, force: true });
  });

  it("sqlite: every field of every package equals rpm's, in database order", async () => {
    const expected = oracleLines(dbDir(root));
    const db = await readRpmdb(hostRpmdbDir(dbDir(root)));
    expect(db.format).toBe("sqlite");
    expect(db.packages.map((p, i) => ourLine(p, db.instances[i]!))).toEqual(expected);
    // The fixture really exercises what it should.
    expect(expected.length).toBe(33);
    expect(db.packages.filter((p) => p.arch === null).map((p) => p.name)).toEqual([
      "gpg-pubkey",
      "gpg-pubkey",
    ]);
    const release = db.packages.find((p) => p.name === "almalinux-release")!;
    expect(release.arch).toBe(target);
    expect(release.signature?.text).toMatch(/^RSA\/SHA256, /);
    expect(db.packages.find((p) => p.name === "coreutils")!.signature?.text).toMatch(/^EdDSA\/SHA512, /);
  });

  it("the sorted name list equals `rpm -qa --qf '%{NAME}\\n' | LC_ALL=C sort` byte for byte", async () => {
    const rpmNames = rpmQuery(dbDir(root), "%{NAME}\n");
    const sorted = execFileSync("sort", {
      input: rpmNames,
      env: { ...process.env, LC_ALL: "C" },
      encoding: "utf8",
    });
    const db = await readRpmdb(hostRpmdbDir(dbDir(root)));
    const ours = `${db.packages
      .map((p) => p.name)
      .sort(compareC)
      .join("\n")}\n`;
    expect(ours).toBe(sorted);
  });

  it.each(BDB_SHAPES)("Berkeley DB (%s) reads like rpm's bdb_ro, in its order", async (_label, options) => {
    const dir = mkdtempSync(join(bdbBase, "db-"));
    sqliteToBdb(join(dbDir(root), "rpmdb.sqlite"), dir, options);
    const expected = oracleLines(dir, true);
    const db = await readRpmdb(hostRpmdbDir(dir));
    expect(db.format).toBe("bdb");
    expect(db.packages.map((p, i) => ourLine(p, db.instances[i]!))).toEqual(expected);
    expect(expected.length).toBe(33);
  });
});
