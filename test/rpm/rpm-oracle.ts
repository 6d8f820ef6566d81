/**
 * Debian's rpm as an oracle for arbitrary header blobs: the blobs go into the Packages table of a fresh
 * rpm sqlite database (rpmdb --initdb, then the sqlite3 CLI), and `rpm -qa` reads them. rpm skips the
 * blobs it rejects, so the instances it prints are the ones it accepts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RpmVerdicts {
  /** rpm's output line per accepted instance (1-based, the blob's position in the list). */
  accepted: Map<number, string>;
}

/**
 * Reads the blobs with rpm. `checks: false` adds --nosignature --nodigest (structure only); with checks,
 * rpm also verifies header digests, as on any database read.
 */
export function rpmReadBlobs(blobs: readonly Buffer[], queryFormat = "", checks = true): RpmVerdicts {
  const dir = mkdtempSync(join(tmpdir(), "rpm-oracle-"));
  try {
    execFileSync("rpmdb", ["--dbpath", dir, "--initdb"]);
    const sql = blobs.map(
      (b, i) => `INSERT INTO Packages(hnum, blob) VALUES (${i + 1}, X'${b.toString("hex")}');`,
    );
    writeFileSync(join(dir, "insert.sql"), `BEGIN;\n${sql.join("\n")}\nCOMMIT;\n`);
    execFileSync("sqlite3", [join(dir, "rpmdb.sqlite"), `.read ${join(dir, "insert.sql")}`]);
    const args = ["--dbpath", dir, "-qa", "--qf", `%{DBINSTANCE}\x1f${queryFormat}\x1e`];
    if (!checks) args.push("--nosignature", "--nodigest");
    const r = spawnSync("rpm", args, {
      encoding: "utf8",
      env: { ...process.env, TZ: "UTC", LC_ALL: "C" },
      maxBuffer: 1 << 28,
    });
    const accepted = new Map<number, string>();
    for (const rec of r.stdout.split("\x1e").filter(Boolean)) {
      const [inst, line] = rec.split("\x1f");
      accepted.set(Number(inst), line ?? "");
    }
    return { accepted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
