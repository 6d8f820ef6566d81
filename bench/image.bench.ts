/**
 * Issue 15's speed targets (issues 3 and 4's before it) on imagegen's BENCHMARK_IMAGE (10 GiB, ~1.5 GiB
 * of data, ~390 packages with real-size headers: rpmdb.sqlite >= 8 MiB) and its AlmaLinux 8 twin (the
 * same in Berkeley DB); raw, qcow2 and zlib-compressed qcow2, in one run:
 *   cat IMAGE:/etc/os-release   <= 0.25 s wall with Node's start, < 32 MiB of the image read, < 150 MiB RSS
 *   verify (the leg's checks)   <= 0.30 s wall on each format, RSS < 100 MiB
 * and the reference the seed's method boils down to (qemu-img convert to raw, losetup -r, partx -a,
 * mount -o ro, cat / rpm --dbpath on a copy of the database; /work/shared/recipes/verify-ref.sh) on the
 * same images, with the ratios (verify >= 25x the reference on the compressed qcow2, >= 1.0x on raw).
 * Each verify's phase breakdown (CLOUD_IMAGES_STATS=1) is printed, and verify once more with glibc's
 * huge-page tunable and once with this machine's NODE_EXTRA_CA_CERTS (both for information: a user's
 * settings, which the tool cannot change for itself; see EXTRA_CA_CERTS). The
 * reference needs root and loop devices; without them it is skipped with the reason and only our figures
 * are printed.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BENCHMARK_IMAGE,
  type BuiltImage,
  buildImage,
  type ImageFormat,
  type ImageSpec,
} from "../imagegen/index.js";
import { fmtMiB, fmtSeconds, isRoot, type Measurement, MiB, measure, medianOf, report } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(root, "bin/cloud-images.js");
const HUGE_PAGES = "glibc.malloc.hugetlb=1";
/**
 * Node 20 reads and parses every certificate of NODE_EXTRA_CA_CERTS when it starts, before any script
 * runs. Some machines set it to the whole system bundle (this one does: about 40 ms of every start). Our
 * runs go without it, as Node ships and as no offline command needs it (they make no TLS connection);
 * one run per format with it follows, for information.
 */
const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** The AlmaLinux 9 image (rpmdb.sqlite) and its AlmaLinux 8 twin (Berkeley DB). */
const IMAGES: { spec: ImageSpec; name: string }[] = [
  { spec: BENCHMARK_IMAGE, name: "AL9 sqlite" },
  { spec: { ...BENCHMARK_IMAGE, el: "8", release: "8.10" }, name: "AL8 bdb" },
];
const leg = (spec: ImageSpec) => [
  ...["--type", "gencloud", "--variant", spec.el, "--arch", "x86_64", "--release", spec.release!],
];
const FORMATS: ImageFormat[] = ["raw", "qcow2", "qcow2-zlib"];

mkdirSync(join(root, ".cache"), { recursive: true });
const work = mkdtempSync(join(root, ".cache", "image-bench-"));
try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}

function bytesRead(m: Measurement): number {
  const hit = /bytesRead=(\d+)/.exec(m.stderr);
  if (!hit) throw new Error(`no bytesRead in: ${m.stderr}`);
  return Number(hit[1]);
}

/** Why the reference cannot run here, or null when it can. */
function referenceUnavailable(): string | null {
  if (!isRoot()) return "not root";
  for (const tool of ["qemu-img", "losetup", "partx", "mount", "rpm"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = spawnSync("losetup", ["-f"], { encoding: "utf8" });
  if (probe.status !== 0) return `no free loop device (${probe.stderr.trim()})`;
  return null;
}

/** The seed's steps with a loop device instead of nbd, as one shell script (timed as a whole). */
function referenceScript(kind: "cat" | "verify"): string {
  const script = join(work, `ref-${kind}.sh`);
  const body = [
    "#!/bin/bash",
    "set -euo pipefail",
    'img=$1 rp=$2 tmp=$(mktemp -d "$3/ref.XXXX") dev=',
    'cleanup() { mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"; [ -n "$dev" ] && losetup -d "$dev"; rm -rf "$tmp"; }',
    "trap cleanup EXIT",
    'fmt=$(qemu-img info --output=json "$img" | grep -o \'"format": "[a-z0-9]*"\' | head -1 | cut -d\'"\' -f4)',
    'raw=$img; if [ "$fmt" = qcow2 ]; then raw=$tmp/disk.raw; qemu-img convert -O raw "$img" "$raw"; fi',
    'dev=$(losetup -f --show -r "$raw"); [ -b "$dev"p"$rp" ] || partx -a "$dev"',
    'mkdir "$tmp/mnt"; mount -o ro,norecovery "$dev"p"$rp" "$tmp/mnt"',
    kind === "cat"
      ? 'cat "$tmp/mnt/etc/os-release"'
      : [
          "out=$4 release=$5 backend=$6",
          'grep "AlmaLinux release $release" "$tmp/mnt/etc/almalinux-release"',
          // sqlite cannot open a database on a read-only mount: rpm reads a copy
          'cp -a "$tmp/mnt/var/lib/rpm" "$tmp/rpmdb"',
          // Debian's rpm reads an AlmaLinux 8 Berkeley DB with its read-only backend
          'if [ -n "$backend" ]; then set -- --define "_db_backend $backend"; else set --; fi',
          'rpm --dbpath "$tmp/rpmdb" "$@" -q --qf "%{ARCH}\\n" almalinux-release',
          'rpm --dbpath "$tmp/rpmdb" "$@" -qa --qf "%{NAME}\\n" | LC_ALL=C sort > "$out"',
        ].join("\n"),
  ].join("\n");
  writeFileSync(script, `${body}\n`, { mode: 0o755 });
  return script;
}

/** The better of two runs: the reference gets the benefit of the doubt. */
async function bestOf2(run: () => Promise<Measurement>): Promise<Measurement> {
  const a = await run();
  const b = await run();
  return a.wall <= b.wall ? a : b;
}

/** How much longer `a` took than `b`, signed, in milliseconds. */
function msDifference(a: Measurement, b: Measurement): string {
  const ms = Math.round((a.wall - b.wall) * 1000);
  return `${ms > 0 ? "+" : ""}${ms} ms`;
}

/** The phase breakdown a run printed with CLOUD_IMAGES_STATS=1 (the stats line without its prefix). */
function phases(m: Measurement): string {
  return /stats: (.*)/.exec(m.stderr)?.[1] ?? "(no stats line)";
}

async function main(): Promise<void> {
  // Wall times on a shared machine follow its load: say what it was.
  const load = () => `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} CPUs`;
  const why = referenceUnavailable();
  const catRef = referenceScript("cat");
  const verifyRef = referenceScript("verify");
  if (EXTRA_CA_CERTS !== undefined) {
    const start = (env: NodeJS.ProcessEnv) =>
      medianOf(RUNS, () => measure(process.execPath, ["-e", "0"], { env }));
    const plain = await start({ NODE_EXTRA_CA_CERTS: undefined });
    const withCa = await start({});
    console.log(
      `NODE_EXTRA_CA_CERTS is set here (${EXTRA_CA_CERTS}): node -e 0 takes ${fmtSeconds(withCa.wall)} with it, ` +
        `${fmtSeconds(plain.wall)} without; our runs below go without it`,
    );
  }
  for (const { spec, name } of IMAGES) {
    const t0 = Date.now();
    const img = await buildImage(spec, { log: (l) => console.log(l) });
    if (Date.now() - t0 > 5000)
      console.log(`(${name} image built in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    await benchImage(img, name, why, catRef, verifyRef, load);
  }
  if (why !== null)
    console.log(
      `reference (convert + loop mount + cat / rpm --dbpath) skipped: ${why}; only our figures above`,
    );
  else
    console.log(
      `(medians of ${RUNS} runs for ours after one untimed run, best of 2 for the reference; after: ${load()})`,
    );
}

async function benchImage(
  img: BuiltImage,
  name: string,
  why: string | null,
  catRef: string,
  verifyRef: string,
  load: () => string,
): Promise<void> {
  const expectedList = img.expected.packageNames.map((n) => `${n}\n`).join("");
  const size = (f: string) => Number(spawnSync("stat", ["-c", "%s", f], { encoding: "utf8" }).stdout);
  const dbFile = join(img.rpmdbDir, img.expected.rpmdbBackend === "sqlite" ? "rpmdb.sqlite" : "Packages");
  console.log(
    `\n${name} image: ${img.diskBytes / 2 ** 30} GiB disk, ${img.expected.packageNames.length} packages, ` +
      `rpm database ${fmtMiB(size(dbFile))}, ` +
      FORMATS.map((f) => `${f} ${fmtMiB(size(img.paths[f]!))}`).join(", "),
  );
  console.log(`before: ${load()}`);
  const env = { CLOUD_IMAGES_STATS: "1", NODE_EXTRA_CA_CERTS: undefined };
  const release = img.spec.release;
  for (const format of FORMATS) {
    const path = img.paths[format]!;
    const cat = await medianOf(RUNS, () =>
      measure(process.execPath, [CLI, "cat", `${path}:/etc/os-release`], { env }),
    );
    if (cat.exitCode !== 0 || cat.stdout !== img.expected.osRelease)
      throw new Error(`cat on ${name} ${format}: ${cat.stderr}`);
    const out = join(work, `${format}.txt`);
    const runVerify = (extraEnv: NodeJS.ProcessEnv = {}) =>
      measure(process.execPath, [CLI, "verify", path, ...leg(img.spec), "--packages-out", out], {
        env: { ...env, ...extraEnv },
      });
    // One untimed run first, as a user's second verify: the image's pages are in the page cache after
    // the reference's convert of another format, and the CLI's code cache is written (both sides are
    // measured warm: the reference gets the better of two runs).
    await runVerify();
    /** The median of RUNS verifies (`how`: with what setting), which must pass and list every package. */
    const medianVerify = async (how: string, extraEnv: NodeJS.ProcessEnv = {}) => {
      const m = await medianOf(RUNS, () => runVerify(extraEnv));
      if (m.exitCode !== 0 || readFileSync(out, "utf8") !== expectedList)
        throw new Error(`verify${how} on ${name} ${format}: exit ${m.exitCode}\n${m.stdout}${m.stderr}`);
      return m;
    };
    const verify = await medianVerify("");
    // glibc reads its tunables at process start only: with THP in madvise mode (as on the benchmark
    // machine), this one backs large malloc'd memory (inflated clusters, whole-file reads) with 2 MiB pages.
    const huge = await medianVerify(` with ${HUGE_PAGES}`, { GLIBC_TUNABLES: HUGE_PAGES });
    report(
      `cat IMAGE:/etc/os-release (${name}, ${format})`,
      { wall: fmtSeconds(cat.wall), read: fmtMiB(bytesRead(cat)), rss: fmtMiB(cat.maxRss) },
      "<= 0.25 s, < 32 MiB read, < 150 MiB RSS",
      cat.wall <= 0.25 && bytesRead(cat) < 32 * MiB && cat.maxRss < 150 * MiB,
    );
    report(
      `verify (${name}, ${format})`,
      { wall: fmtSeconds(verify.wall), read: fmtMiB(bytesRead(verify)), rss: fmtMiB(verify.maxRss) },
      "<= 0.30 s, RSS < 100 MiB",
      verify.wall <= 0.3 && verify.maxRss < 100 * MiB,
    );
    console.log(`      phases of that verify: ${phases(verify)}`);
    report(
      `verify with GLIBC_TUNABLES=${HUGE_PAGES} (${name}, ${format})`,
      {
        wall: fmtSeconds(huge.wall),
        rss: fmtMiB(huge.maxRss),
        "vs default": msDifference(huge, verify),
      },
      "none (for information)",
      true,
    );
    if (EXTRA_CA_CERTS !== undefined) {
      const withCa = await medianVerify(" with NODE_EXTRA_CA_CERTS", { NODE_EXTRA_CA_CERTS: EXTRA_CA_CERTS });
      report(
        `verify with this machine's NODE_EXTRA_CA_CERTS (${name}, ${format})`,
        {
          wall: fmtSeconds(withCa.wall),
          "vs default": msDifference(withCa, verify),
        },
        "none (for information)",
        true,
      );
    }
    if (why !== null) continue;
    // The reference right after ours on the same format: both see about the same load.
    const rp = String(img.rootPartition);
    const refCat = await bestOf2(() => measure(catRef, [path, rp, work]));
    const refList = join(work, `ref-${format}.txt`);
    const backend = img.expected.rpmdbBackend === "bdb" ? "bdb_ro" : "";
    const refVerify = await bestOf2(() => measure(verifyRef, [path, rp, work, refList, release, backend]));
    if (refCat.exitCode !== 0 || refCat.stdout !== img.expected.osRelease)
      throw new Error(`reference cat on ${name} ${format} failed: ${refCat.stderr}`);
    if (refVerify.exitCode !== 0 || readFileSync(refList, "utf8") !== expectedList)
      throw new Error(`reference verify on ${name} ${format} failed: ${refVerify.stderr}`);
    const catRatio = refCat.wall / cat.wall;
    const verifyRatio = refVerify.wall / verify.wall;
    report(
      `cat vs convert+loop+mount+cat (${name}, ${format})`,
      {
        ours: fmtSeconds(cat.wall),
        reference: fmtSeconds(refCat.wall),
        ratio: `${catRatio.toFixed(1)}x faster`,
      },
      format === "qcow2-zlib" ? ">= 10x faster" : "none (for information)",
      format !== "qcow2-zlib" || catRatio >= 10,
    );
    const target = { raw: 1, qcow2: 0, "qcow2-zlib": 25 }[format as string] ?? 0;
    report(
      `verify vs convert+loop+mount+rpm (${name}, ${format})`,
      {
        ours: fmtSeconds(verify.wall),
        reference: fmtSeconds(refVerify.wall),
        ratio: `${verifyRatio.toFixed(1)}x faster`,
      },
      target > 0 ? `>= ${target.toFixed(1)}x faster` : "none (for information)",
      verifyRatio >= target,
    );
  }
}
