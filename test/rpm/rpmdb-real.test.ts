/**
 * Real rpm databases from real distributions (test/data/rpm, see its README): every package exactly as
 * the answer files list it, in database order, plus the fields the upstream tests check, and every
 * field against Debian's rpm where it can read the format.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compareC, hostRpmdbDir, nevra, type Rpmdb, readNdb, readRpmdb } from "../../src/rpm/index.js";
import { rpmQuery } from "../helpers/rpmbuild.js";
import { ORACLE_FORMAT, ourLine } from "./generated.js";

const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A private directory holding the fixture under the name rpm uses. */
function fixtureDir(dir: string, file: string, as: string): string {
  const t = mkdtempSync(join(tmpdir(), "rpmdb-real-"));
  temps.push(t);
  copyFileSync(join(DATA, dir, file), join(t, as));
  return t;
}

interface Expected {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string | null;
}

const FIXTURES = [
  { dir: "bdb-rhel8-libuuid", file: "Packages", as: "Packages", format: "bdb", count: 1 },
  { dir: "bdb-centos8-syft", file: "Packages", as: "Packages", format: "bdb", count: 1 },
  { dir: "bdb-epoch-scalibr", file: "Packages_epoch", as: "Packages", format: "bdb", count: 1 },
  { dir: "ndb-sle15-bci", file: "Packages.db", as: "Packages.db", format: "ndb", count: 35 },
  { dir: "sqlite-cbl-mariner-2.0", file: "rpmdb.sqlite", as: "rpmdb.sqlite", format: "sqlite", count: 129 },
] as const;

describe.each(FIXTURES)("$dir", ({ dir, file, as, format, count }) => {
  const read = (): Promise<Rpmdb> => readRpmdb(hostRpmdbDir(fixtureDir(dir, file, as)));

  it("lists exactly the expected packages, in database order", async () => {
    const expected = JSON.parse(readFileSync(join(DATA, dir, `${file}.expected.json`), "utf8")) as Expected[];
    const db = await read();
    expect(db.format).toBe(format);
    expect(expected.length).toBe(count);
    expect(
      db.packages.map(({ name, epoch, version, release, arch }) => ({ name, epoch, version, release, arch })),
    ).toEqual(expected);
  });

  it("gives the name list in the seed's format (C-locale sorted)", async () => {
    const names = readFileSync(join(DATA, dir, `${file}.names.txt`), "utf8");
    const db = await read();
    expect(
      `${db.packages
        .map((p) => p.name)
        .sort(compareC)
        .join("\n")}\n`,
    ).toBe(names);
  });

  if (format !== "ndb") {
    it("agrees with Debian's rpm on every field", async () => {
      const t = fixtureDir(dir, file, as);
      const expected = rpmQuery(t, `${ORACLE_FORMAT}\n`, { bdb: format === "bdb" })
        .split("\n")
        .filter(Boolean);
      const db = await readRpmdb(hostRpmdbDir(t));
      expect(db.packages.map((p, i) => ourLine(p, db.instances[i]!))).toEqual(expected);
    });
  }
});

describe("fields the upstream tests check", () => {
  it("RHEL 8 libuuid (go-rpmdb)", async () => {
    const db = await readRpmdb(hostRpmdbDir(fixtureDir("bdb-rhel8-libuuid", "Packages", "Packages")));
    const p = db.packages[0]!;
    expect(nevra(p)).toBe("libuuid-2.32.1-42.el8_8.x86_64");
    expect(p.epoch).toBeNull();
    expect(p.size).toBe(35104);
    expect(p.sourceRpm).toBe("util-linux-2.32.1-42.el8_8.src.rpm");
    expect(p.license).toBe("BSD");
    expect(p.vendor).toBe("Red Hat, Inc.");
    expect(p.sigmd5).toBe("c1e561f13d39aee443a1f00258fba000");
    expect(p.installTime).toBe(1696444673);
    expect(p.signature?.text).toBe("RSA/SHA256, Mon Apr  3 18:10:39 2023, Key ID 199e2f91fd431d51");
    expect(p.signature?.keyId).toBe("199e2f91fd431d51");
    expect(db.instances).toEqual([1]);
  });

  it("CBL-Mariner 2.0 curl (go-rpmdb)", async () => {
    const db = await readRpmdb(
      hostRpmdbDir(fixtureDir("sqlite-cbl-mariner-2.0", "rpmdb.sqlite", "rpmdb.sqlite")),
    );
    const p = db.packages.find((x) => x.name === "curl")!;
    expect(nevra(p)).toBe("curl-7.76.0-6.cm2.x86_64");
    expect(p.size).toBe(326023);
    expect(p.license).toBe("MIT");
    expect(p.vendor).toBe("Microsoft Corporation");
    expect(p.sigmd5).toBe("b5f5369ae91df3672fa3338669ec5ca2");
    expect(p.installTime).toBe(1643279454);
    expect(p.signature?.text).toMatch(/^RSA\/SHA256, Thu Jan 27 09:02:11 2022, Key ID [0-9a-f]{16}$/);
    expect(db.instances).toEqual(Array.from({ length: 129 }, (_, i) => i + 1));
  });

  it("CentOS 8 dive (syft): no epoch, empty vendor", async () => {
    const db = await readRpmdb(hostRpmdbDir(fixtureDir("bdb-centos8-syft", "Packages", "Packages")));
    const p = db.packages[0]!;
    expect(nevra(p)).toBe("dive-0.9.2-1.x86_64");
    expect(p.epoch).toBeNull();
    expect(p.size).toBe(12406784);
    expect(p.sourceRpm).toBe("dive-0.9.2-1.src.rpm");
    expect(p.license).toBe("MIT");
    expect(p.vendor).toBe("");
  });

  it("hello with epoch 1, instance 4 (osv-scalibr)", async () => {
    const db = await readRpmdb(hostRpmdbDir(fixtureDir("bdb-epoch-scalibr", "Packages_epoch", "Packages")));
    const p = db.packages[0]!;
    expect(nevra(p)).toBe("hello-1:0.0.1-rls.x86_64");
    expect(p.sourceRpm).toBe("hello-0.0.1-rls.src.rpm");
    expect(p.license).toBe("GPL");
    expect(db.instances).toEqual([4]);
  });
});

describe("SLE 15 NDB headers against rpm", () => {
  it("every header, copied into an rpm sqlite database, reads the same as rpm reads it", async () => {
    // rpm here cannot read ndb; it can read the same header blobs from an sqlite database it created.
    const t = fixtureDir("ndb-sle15-bci", "Packages.db", "Packages.db");
    const records = readNdb(readFileSync(join(t, "Packages.db")));
    const sq = mkdtempSync(join(tmpdir(), "ndb2sqlite-"));
    temps.push(sq);
    execFileSync("rpmdb", ["--dbpath", sq, "--initdb"]);
    const sql = records.map(
      (r) => `INSERT INTO Packages(hnum, blob) VALUES (${r.pkgIndex}, X'${r.blob.toString("hex")}');`,
    );
    execFileSync("sqlite3", [join(sq, "rpmdb.sqlite")], { input: `BEGIN;\n${sql.join("\n")}\nCOMMIT;\n` });
    const expected = rpmQuery(sq, `${ORACLE_FORMAT}\n`).split("\n").filter(Boolean);
    const db = await readRpmdb(hostRpmdbDir(t));
    expect(expected.length).toBe(35);
    expect(db.packages.map((p, i) => ourLine(p, db.instances[i]!))).toEqual(expected);
  });
});
