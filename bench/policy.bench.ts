/**
 * Issue 11's speed targets, with the reference side by side in the same run:
 *   the default acceptance policy adds at most 50 ms to verify's median wall time on the 10 GiB
 *   benchmark image (verify --no-policy and verify, interleaved) and keeps the bytes read under 64 MiB;
 *   --deep (file-integrity) on the image whose 1.5 GiB of data is packaged hashes at least 0.8x as fast
 *   as `sha256sum` over the same files of the same image, loop-mounted read-only (root needed).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCHMARK_IMAGE, buildImage, DEEP_BENCHMARK_IMAGE } from "../imagegen/index.js";
import { isVerified } from "../src/policy/checks/file-integrity.js";
import { packageFileList } from "../src/rpm/files.js";
import { hostRpmdbDir, readRpmdbHeaders } from "../src/rpm/rpmdb/index.js";
import { fmtMiB, isRoot, type Measurement, MiB, measure, report } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(root, "bin/cloud-images.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LEG = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];
const load = () => `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} CPUs`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(root, ".cache", "policy-bench-"));
try {
  await policyOverhead();
  await deepThroughput();
} finally {
  rmSync(work, { recursive: true, force: true });
}

function verify(image: string, ...extra: string[]): Promise<Measurement> {
  return measure(
    process.execPath,
    [CLI, "verify", image, ...LEG, "--packages-out", join(work, "p.txt"), ...extra],
    {
      env: { CLOUD_IMAGES_STATS: "1" },
    },
  );
}

function bytesRead(m: Measurement): number {
  const hit = /bytesRead=(\d+)/.exec(m.stderr);
  if (!hit) throw new Error(`no bytesRead in: ${m.stderr}`);
  return Number(hit[1]);
}

async function policyOverhead(): Promise<void> {
  const img = await buildImage(BENCHMARK_IMAGE, { log: (l) => console.log(l) });
  for (const format of ["raw", "qcow2-zlib"] as const) {
    const path = img.paths[format]!;
    await verify(path); // warm the page cache and the module cache
    const without: number[] = [];
    const withPolicy: number[] = [];
    let read = 0;
    for (let i = 0; i < RUNS; i++) {
      const a = await verify(path, "--no-policy");
      const b = await verify(path);
      if (a.exitCode !== 0 || b.exitCode !== 0) throw new Error(`verify failed: ${a.stderr}${b.stdout}`);
      without.push(a.wall);
      withPolicy.push(b.wall);
      read = Math.max(read, bytesRead(b));
    }
    const added = (median(withPolicy) - median(without)) * 1000;
    report(
      `default policy on the benchmark image (${format})`,
      {
        "verify --no-policy": `${median(without).toFixed(3)} s`,
        verify: `${median(withPolicy).toFixed(3)} s`,
        added: `${added.toFixed(0)} ms`,
        ratio: (median(withPolicy) / median(without)).toFixed(3),
        read: fmtMiB(read),
        load: load(),
      },
      "<= 50 ms added, < 64 MiB read",
      added <= 50 && read < 64 * MiB,
    );
  }
}

/** The packaged regular files file-integrity hashes, and their total size. */
async function hashedFiles(rpmdbDir: string): Promise<{ paths: string[]; bytes: number }> {
  const { headers } = await readRpmdbHeaders(hostRpmdbDir(rpmdbDir));
  const seen = new Set<string>();
  let bytes = 0;
  for (const { header } of headers) {
    for (const f of packageFileList(header).files) {
      if (f.type !== "file" || !isVerified(f, []) || seen.has(f.path)) continue;
      seen.add(f.path);
      bytes += f.size;
    }
  }
  return { paths: [...seen], bytes };
}

async function deepThroughput(): Promise<void> {
  if (!isRoot()) {
    console.log("SKIP  --deep throughput: needs root (the image build and the reference's loop mount)");
    return;
  }
  const img = await buildImage(DEEP_BENCHMARK_IMAGE, { log: (l) => console.log(l) });
  const raw = img.paths.raw!;
  const rootPart = img.partitions.find((p) => p.number === img.rootPartition)!;
  const { paths, bytes } = await hashedFiles(img.rpmdbDir);
  const list = join(work, "files");
  writeFileSync(list, paths.map((p) => `.${p}\0`).join(""));
  const mnt = join(work, "mnt");
  spawnSync("mkdir", ["-p", mnt]);
  const mount = spawnSync("mount", [
    "-o",
    `ro,loop,nouuid,offset=${rootPart.start},sizelimit=${rootPart.size}`,
    raw,
    mnt,
  ]);
  if (mount.status !== 0) {
    console.log(`SKIP  --deep throughput: cannot loop-mount the image (${mount.stderr.toString().trim()})`);
    return;
  }
  try {
    // the reference: sha256sum over the same files, from the same image through the kernel
    const sha256sum = () => measure("sh", ["-c", `cd ${mnt} && xargs -0 -a ${list} sha256sum > /dev/null`]);
    await sha256sum();
    await verify(raw, "--deep");
    const ref: number[] = [];
    const deep: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
      ref.push((await sha256sum()).wall);
      const d = await verify(raw, "--deep");
      if (d.exitCode !== 0) throw new Error(`verify --deep failed: ${d.stdout}`);
      deep.push(d.wall);
      plain.push((await verify(raw)).wall);
    }
    const ours = median(deep) - median(plain);
    const refMiBs = bytes / MiB / median(ref);
    const oursMiBs = bytes / MiB / ours;
    report(
      "--deep file-integrity vs sha256sum on the same files",
      {
        files: String(paths.length),
        bytes: fmtMiB(bytes),
        sha256sum: `${median(ref).toFixed(2)} s (${refMiBs.toFixed(0)} MiB/s)`,
        "file-integrity": `${ours.toFixed(2)} s (${oursMiBs.toFixed(0)} MiB/s; verify --deep ${median(deep).toFixed(2)} s - verify ${median(plain).toFixed(2)} s)`,
        ratio: (oursMiBs / refMiBs).toFixed(2),
        load: load(),
      },
      ">= 0.8x sha256sum's throughput",
      oursMiBs / refMiBs >= 0.8,
    );
  } finally {
    spawnSync("umount", [mnt]);
  }
}
