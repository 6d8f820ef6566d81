/**
 * ext4 reader: look up and read /etc/os-release in a 10 GiB filesystem, and walk + read a whole real
 * filesystem (ext4-view-rs's test_disk1: 11000 files, htree directories), each side by side with
 * e2fsprogs' debugfs doing the same in the same run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmtMiB, fmtSeconds, MiB, measure, medianOf, report } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, ".cache", "ext4-bench");
mkdirSync(work, { recursive: true });

// The reader, bundled so Node starts it as fast as the CLI bundle would.
const reader = join(work, "ext4-reader.mjs");
execFileSync(
  join(root, "node_modules/.bin/esbuild"),
  [
    join(root, "bench/ext4-reader.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    `--outfile=${reader}`,
    "--log-level=warning",
  ],
  { stdio: "inherit" },
);

// A 10 GiB filesystem: 20000 small files in 200 directories, 512 MiB of file data, /etc/os-release.
const big = join(work, "10g.img");
const osRelease = 'NAME="AlmaLinux"\nVERSION="9.6 (Sage Margay)"\nID="almalinux"\nVERSION_ID="9.6"\n';
const built = () =>
  existsSync(big) &&
  execFileSync("debugfs", ["-R", "cat /etc/os-release", big], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }) === osRelease;
if (!built()) {
  const src = join(work, "src");
  rmSync(src, { recursive: true, force: true });
  mkdirSync(join(src, "etc"), { recursive: true });
  writeFileSync(join(src, "etc", "os-release"), osRelease);
  for (let d = 0; d < 200; d++) {
    mkdirSync(join(src, "usr", `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(src, "usr", `d${d}`, `f${f}`), `${d}/${f}\n`.repeat(20));
  }
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 27;
  for (let n = 0; n < 8; n++)
    writeFileSync(join(src, "usr", `blob${n}`), Buffer.concat(Array(64).fill(chunk)));
  rmSync(big, { force: true });
  execFileSync("mkfs.ext4", [
    "-q",
    "-F",
    "-E",
    "lazy_itable_init=1,lazy_journal_init=1",
    "-d",
    src,
    big,
    "10G",
  ]);
  rmSync(src, { recursive: true, force: true });
}

const ours = await medianOf(5, () => measure(process.execPath, [reader, "cat", big, "/etc/os-release"]));
const theirs = await medianOf(5, () => measure("debugfs", ["-R", "cat /etc/os-release", big]));
if (ours.stdout !== osRelease || !theirs.stdout.includes("AlmaLinux")) throw new Error("cat output differs");
const bytesRead = Number(/bytesRead=(\d+)/.exec(ours.stderr)![1]);
report(
  "ext4 cat /etc/os-release (10 GiB fs)",
  {
    wall: fmtSeconds(ours.wall),
    rss: fmtMiB(ours.maxRss),
    read: `${(bytesRead / 1024).toFixed(1)} KiB`,
    debugfs: fmtSeconds(theirs.wall),
    ratio: `${(ours.wall / theirs.wall).toFixed(2)}x debugfs`,
  },
  "< 0.5 s, < 150 MiB RSS, < 1 MiB read",
  ours.wall < 0.5 && ours.maxRss < 150 * MiB && bytesRead < MiB,
);

// Whole-filesystem walk of a real image.
const disk1 = join(work, "test_disk1.bin");
execFileSync("zstd", ["-d", "-q", "-f", join(root, "test/data/ext4/test_disk1.bin.zst"), "-o", disk1]);
const out = join(work, "rdump");
const walkOurs = await medianOf(3, () => measure(process.execPath, [reader, "walk", disk1]));
const walkTheirs = await medianOf(3, async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  return measure("debugfs", ["-R", `rdump / ${out}`, disk1]);
});
rmSync(out, { recursive: true, force: true });
report(
  "ext4 walk + read all (test_disk1, 11000 files)",
  {
    wall: fmtSeconds(walkOurs.wall),
    rss: fmtMiB(walkOurs.maxRss),
    "debugfs rdump": fmtSeconds(walkTheirs.wall),
    ratio: `${(walkOurs.wall / walkTheirs.wall).toFixed(2)}x debugfs`,
    files: walkOurs.stdout.trim(),
  },
  "< 3x debugfs rdump, < 150 MiB RSS",
  walkOurs.wall < 3 * walkTheirs.wall && walkOurs.maxRss < 150 * MiB,
);
