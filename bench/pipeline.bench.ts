/**
 * Issue 5's overhead target: everything a leg does except the Packer build itself (locate, checksum,
 * verify, SBOM, publish to the default file store, report) on a ~2 GiB image must take at most 1.3x
 * one `sha256sum` of the image plus one `cp` of it into the store directory, measured side by side
 * in the same run; the image is read at most twice; peak RSS < 300 MiB.
 *
 * Packer is replaced by a script that hard-links an imagegen image into the output directory (no
 * time), so `cloud-images run` measures only the pipeline. Needs root to build the image once.
 */
import { chmodSync, cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildImage, type ImageSpec } from "../imagegen/index.js";
import { fmtMiB, fmtSeconds, type Measurement, measure, report, withRchar } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(root, "bin/cloud-images.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TS = "20260220143000";
const NAME = "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2";
const SPEC: ImageSpec = {
  arch: "x86_64",
  el: "9",
  release: "9.6",
  rootfs: "xfs",
  formats: ["qcow2"],
  packages: "realistic",
  fillerMiB: Number(process.env.BENCH_PIPELINE_FILLER_MIB ?? 1950),
};

const image = await buildImage(SPEC, { log: (l) => console.log(`  imagegen: ${l}`) });
const source = image.paths.qcow2!;
const size = statSync(source).size;
const work = mkdtempSync(join(root, ".cache", "pipeline-bench-"));
try {
  const templates = join(work, "templates");
  const store = join(work, "store");
  cpSync(
    join(root, "test/fixtures/busybox-leg/almalinux-demo.pkr.hcl"),
    join(templates, "almalinux-demo.pkr.hcl"),
    {
      recursive: true,
    },
  );
  const packer = join(work, "packer");
  writeFileSync(
    packer,
    `#!/bin/sh\ncase "$1" in version) echo "Packer v1.6.6";; build) mkdir -p output-almalinux-9-gencloud-x86_64 && ln -f "${source}" output-almalinux-9-gencloud-x86_64/${NAME};; esac\n`,
  );
  chmodSync(packer, 0o755);
  const reset = () => {
    rmSync(join(templates, "output-almalinux-9-gencloud-x86_64"), { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  };

  const ours: { m: Measurement; rchar: number }[] = [];
  const reference: Measurement[] = [];
  console.log(
    `image: ${fmtMiB(size)} qcow2, ${image.expected.packageNames.length} packages; ${RUNS} runs each, alternating`,
  );
  for (let i = 0; i < RUNS; i++) {
    reset();
    ours.push(
      await withRchar(CLI, () =>
        measure(
          process.execPath,
          [
            CLI,
            "run",
            "--templates",
            templates,
            "--type",
            "gencloud",
            "--variant",
            "9",
            "--arch",
            "x86_64",
            "--release",
            "9.6",
            "--timestamp",
            TS,
            "--store",
            `file://${store}`,
            "--packer",
            packer,
          ],
          { env: { GITHUB_ACTIONS: "", GITHUB_STEP_SUMMARY: "" } },
        ),
      ),
    );
    if (ours.at(-1)!.m.exitCode !== 0) throw new Error(`cloud-images run failed:\n${ours.at(-1)!.m.stderr}`);
    reset();
    reference.push(
      await measure("sh", [
        "-c",
        `sha256sum "$1" >/dev/null && mkdir -p "$2" && cp "$1" "$2/"`,
        "sh",
        source,
        store,
      ]),
    );
  }
  reset();
  const median = <T>(xs: T[], key: (x: T) => number) =>
    [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
  const o = median(ours, (x) => x.m.wall);
  const r = median(reference, (x) => x.wall);
  const ratio = o.m.wall / r.wall;
  report(
    "pipeline overhead (locate..report) vs sha256sum + cp",
    { ours: fmtSeconds(o.m.wall), reference: fmtSeconds(r.wall), ratio: `${ratio.toFixed(2)}x` },
    "<= 1.3x",
    ratio <= 1.3,
  );
  report("pipeline peak RSS", { rss: fmtMiB(o.m.maxRss) }, "< 300 MiB", o.m.maxRss < 300 * 1024 * 1024);
  const reads = o.rchar / size;
  report(
    "image read by the pipeline",
    { read: `${reads.toFixed(2)}x the image (rchar ${fmtMiB(o.rchar)})` },
    "<= 2x",
    reads <= 2.05,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
