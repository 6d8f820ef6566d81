/**
 * rpmdb readers: list the installed package names (sorted, the seed's IMAGE.txt) of a realistic
 * 400-package database, as rpmdb.sqlite (AlmaLinux 9/10) and as a Berkeley DB Packages (AlmaLinux 8),
 * side by side with Debian's `rpm --dbpath DIR -qa --qf '%{NAME}\n' | sort` in the same run.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteToBdb } from "../test/helpers/bdb.js";
import { buildRpms, installRpms } from "../test/helpers/rpmbuild.js";
import { fmtMiB, fmtSeconds, measure, medianOf, report } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, ".cache", "rpmdb-bench");
mkdirSync(work, { recursive: true });

const reader = join(work, "rpmdb-reader.mjs");
execFileSync(
  join(root, "node_modules/.bin/esbuild"),
  [
    join(root, "bench/rpmdb-reader.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--packages=external",
    `--outfile=${reader}`,
    "--log-level=warning",
  ],
  { stdio: "inherit" },
);

// 400 packages, a few with many files, as an AlmaLinux GenericCloud image has.
const sqliteDir = join(work, "sqlite");
const bdbDir = join(work, "bdb");
if (!existsSync(join(sqliteDir, "rpmdb.sqlite")) || !existsSync(join(bdbDir, "Packages"))) {
  const packages = Array.from({ length: 400 }, (_, i) => ({
    name: i === 0 ? "almalinux-release" : `package-${String(i).padStart(3, "0")}`,
    version: `${1 + (i % 7)}.${i}`,
    release: "1.el9",
    manyFiles: i % 40 === 0 ? 200 : 4,
  }));
  const rpms = buildRpms({ target: "x86_64", vendor: "AlmaLinux", packages });
  const installed = installRpms(rpms);
  rmSync(sqliteDir, { recursive: true, force: true });
  cpSync(join(installed, "var/lib/rpm"), sqliteDir, { recursive: true });
  rmSync(installed, { recursive: true, force: true });
  rmSync(bdbDir, { recursive: true, force: true });
  sqliteToBdb(join(sqliteDir, "rpmdb.sqlite"), bdbDir);
}

const sh = (cmd: string) => ["-c", cmd] as const;
for (const [label, dir, backend] of [
  ["rpmdb.sqlite", sqliteDir, ""],
  ["Berkeley DB Packages", bdbDir, "--define '_db_backend bdb_ro'"],
] as const) {
  const ours = await medianOf(5, () => measure(process.execPath, [reader, dir]));
  // rpm may write next to the database; give it a copy.
  const copy = join(work, "rpm-copy");
  rmSync(copy, { recursive: true, force: true });
  cpSync(dir, copy, { recursive: true });
  const ref = await medianOf(5, () =>
    measure("sh", sh(`rpm --dbpath ${copy} ${backend} -qa --qf '%{NAME}\\n' 2>/dev/null | LC_ALL=C sort`)),
  );
  rmSync(copy, { recursive: true, force: true });
  const same = ours.stdout === ref.stdout && ours.stdout.split("\n").length > 400;
  report(
    `package names of 400 packages, ${label}`,
    {
      ours: fmtSeconds(ours.wall),
      rpm: fmtSeconds(ref.wall),
      ratio: `${(ours.wall / ref.wall).toFixed(2)}x`,
      "our peak RSS": fmtMiB(ours.maxRss),
      "same list": String(same),
    },
    "< 0.5 s including Node start-up, identical list",
    ours.wall < 0.5 && same,
  );
}
