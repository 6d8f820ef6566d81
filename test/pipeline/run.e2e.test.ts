/**
 * The demo leg end to end with real Packer and QEMU (TCG), then its failure paths and resumption.
 * Oracles: coreutils sha256sum, Debian's rpm on the base image's database, the store's files.
 */
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LegManifest } from "../../src/manifest/manifest.js";
import { generateSigningKey } from "../../src/release/openpgp.js";
import { DEMO_DIR, isRoot, missingTools, TEMPLATE } from "../demo/helpers.js";
import { prepareDemo } from "../fixtures/busybox-leg/lib/prepare.js";
import { runCli } from "../helpers/cli.js";
import { getObject, getTags, listKeys, s3Env, startS3rver } from "../publish/helpers/s3rver.js";

const TS = "20260220143000";
const PREFIX = `images/9/9.6/gencloud/${TS}`;
const OUT = "output-almalinux-9-gencloud-x86_64";
const IMAGE = `AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2`;
const LEG = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64"];
const sha256Of = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

const skip =
  missingTools(["packer", "/usr/bin/qemu-system-x86_64", "rpm", "sha256sum"]) ??
  (isRoot() ? null : "needs root (imagegen, kernel)");
if (skip) console.log(`skipping the pipeline end-to-end tests: ${skip}`);

describe.skipIf(skip !== null)("cloud-images run: the demo leg", () => {
  let dir: string;
  let store: string;
  let expectedNames: string;
  const env: Record<string, string> = {
    CHECKPOINT_DISABLE: "1",
    GITHUB_ACTIONS: "",
    GITHUB_STEP_SUMMARY: "",
    GITHUB_OUTPUT: "",
    GITHUB_ENV: "",
  };
  /** Public halves of the release keys the runs sign with (the private halves are in `env`). */
  const releaseKeys = { openpgp: "", attestation: "" };
  // the busybox guest stamps the image and powers off: it has no bootloader, cloud-init or sshd, so its
  // image skips the boot test (one test below runs it, to see a failed boot test block publishing)
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    runCli(["run", "--templates", dir, ...LEG, "--no-boot-test", ...args], {
      env: { ...env, CLOUD_IMAGES_STATE_DIR: join(dir, "state"), ...extraEnv },
    });
  const imagePath = () => join(dir, OUT, IMAGE);
  const manifest = (): LegManifest => JSON.parse(readFileSync(`${imagePath()}.manifest.json`, "utf8"));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pipeline-e2e-"));
    store = join(dir, "bucket");
    const pgp = await generateSigningKey("Pipeline test", "pipeline@example.org");
    const att = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    env.CLOUD_IMAGES_SIGNING_KEY = pgp.privateKey;
    env.CLOUD_IMAGES_ATTESTATION_KEY = att.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    releaseKeys.openpgp = join(dir, "openpgp.pub.asc");
    releaseKeys.attestation = join(dir, "attestation.pub.pem");
    writeFileSync(releaseKeys.openpgp, pgp.publicKey);
    writeFileSync(releaseKeys.attestation, att.publicKey.export({ format: "pem", type: "spki" }));
    cpSync(join(DEMO_DIR, TEMPLATE), join(dir, TEMPLATE));
    // No pinned stamp: the guest writes the one each run gives Packer (TIME_STAMP), as after `npm run demo`.
    const prepared = await prepareDemo({ dir, accelerator: "tcg" });
    // The oracle: Debian's rpm on a copy of the base image's database (rpm may write beside it).
    const db = mkdtempSync(join(tmpdir(), "pipeline-rpmdb-"));
    cpSync(prepared.base.image.rpmdbDir, db, { recursive: true });
    expectedNames = execFileSync("sh", ["-c", `rpm --dbpath "${db}" -qa --qf '%{NAME}\\n' | LC_ALL=C sort`], {
      encoding: "utf8",
    });
    rmSync(db, { recursive: true, force: true });
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("builds, verifies, publishes, releases and reports, recording every step", async () => {
    const r = await run(["--release", "9.6", "--timestamp", TS, "--store", `file://${store}`, "--json"]);
    expect(r.stderr).toContain("==> build");
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as LegManifest;
    expect(m.steps.map((s) => [s.name, s.status])).toEqual([
      ["prepare", "ok"],
      ["build", "ok"],
      ["locate", "ok"],
      ["checksum", "ok"],
      ["verify", "ok"],
      ["test", "skipped"],
      ["publish", "ok"],
      ["release", "ok"],
      ["report", "ok"],
    ]);
    expect(m.tests.offline).toBe("passed");
    expect(m.verdict?.passed).toBe(true);
    expect(m.tools.packer).toMatch(/^\d+\.\d+\.\d+$/);
    expect(m.tools.qemu).toBe(
      /version (\d+\.\d+\.\d+)/.exec(
        execFileSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" }),
      )?.[1],
    );

    // The checksum file is what coreutils computes, in its format.
    const sum = execFileSync("sha256sum", [IMAGE], { cwd: join(dir, OUT), encoding: "utf8" });
    expect(readFileSync(`${imagePath()}.sha256sum`, "utf8")).toBe(sum);
    expect(m.image?.sha256).toBe(sum.split(" ")[0]);
    // The package list is exactly `rpm -qa --qf '%{NAME}\n' | sort` on the base database.
    expect(readFileSync(`${imagePath()}.txt`, "utf8")).toBe(expectedNames);
    expect(m.verdict?.packageCount).toBe(expectedNames.trim().split("\n").length);
    // The guest changed the image: its build stamp is there.
    expect(m.verdict?.checks.find((c) => c.name === "build-stamp")?.status).toBe("pass");
    // An SBOM with one component per package.
    const sbom = JSON.parse(readFileSync(`${imagePath()}.cdx.json`, "utf8"));
    expect(sbom.bomFormat).toBe("CycloneDX");
    expect(sbom.components).toHaveLength(expectedNames.trim().split("\n").length);

    // The store holds the four objects under the leg's prefix, identical to the files, tagged public=yes.
    const keys = readdirSync(join(store, PREFIX)).filter(
      (f) => (!f.endsWith(".json") || f.endsWith(".cdx.json")) && !f.startsWith("CHECKSUM"),
    );
    expect(keys.sort()).toEqual([IMAGE, `${IMAGE}.cdx.json`, `${IMAGE}.sha256sum`, `${IMAGE}.txt`].sort());
    for (const name of keys) {
      // by digest: toEqual walks a Buffer index by index, gigabytes of heap for the realistic demo image
      expect(sha256Of(join(store, PREFIX, name))).toBe(sha256Of(join(dir, OUT, name)));
      expect(JSON.parse(readFileSync(join(store, PREFIX, `${name}.tags.json`), "utf8"))).toMatchObject({
        public: "yes",
      });
    }
    expect(m.published?.objects.map((o) => o.key).sort()).toEqual(keys.map((k) => `${PREFIX}/${k}`).sort());
    // The release step: a signed CHECKSUM, the image's bundles and the index; verify-release accepts it
    // and names the build's template commit and builder.
    expect(readdirSync(join(store, PREFIX))).toEqual(
      expect.arrayContaining([
        "CHECKSUM",
        "CHECKSUM.asc",
        `${IMAGE}.sigstore.json`,
        `${IMAGE}.test-result.sigstore.json`,
      ]),
    );
    expect(existsSync(join(store, "streams/9.json"))).toBe(true);
    expect(existsSync(join(store, "streams/v1/index.json"))).toBe(true);
    const verified = await runCli([
      "verify-release",
      join(store, PREFIX),
      "--key",
      releaseKeys.openpgp,
      "--attestation-key",
      releaseKeys.attestation,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("leg:       gencloud 9 x86_64, release 9.6, stamp 20260220143000");
    expect(verified.stdout).toMatch(/builder: {3}urn:cloud-images:host:/);
    expect(m.builder?.id).toMatch(/^urn:cloud-images:host:/);
    // The keys reach no output, no log and no manifest.
    const secretLines = [env.CLOUD_IMAGES_SIGNING_KEY!, env.CLOUD_IMAGES_ATTESTATION_KEY!]
      .flatMap((k) => k.split("\n"))
      .filter((l) => l.length > 30 && !l.startsWith("-----"));
    const written = [
      r.stdout,
      r.stderr,
      readFileSync(`${imagePath()}.manifest.json`, "utf8"),
      verified.stdout,
    ];
    for (const line of secretLines) for (const text of written) expect(text).not.toContain(line.slice(0, 24));
    // The build log sits beside the image.
    expect(readFileSync(`${imagePath()}.packer.log`, "utf8")).toContain("Builds finished");
    // The human summary (printed outside Actions) has the seed's headline.
  }, 600_000);

  it("prints the seed's summary, writes GitHub outputs and the job environment upstream's actions read", async () => {
    const out = join(dir, "github-output");
    const jobEnv = join(dir, "github-env");
    writeFileSync(out, "");
    writeFileSync(jobEnv, "");
    const r = await run(["--from", "report", "--store", `file://${store}`, "--github"], {
      GITHUB_OUTPUT: out,
      GITHUB_ENV: jobEnv,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("**AlmaLinux release 9.6 x86_64** Gencloud Image build `20260220143000`");
    expect(r.stdout).toContain("Tests (offline) passed ✅");
    const outputs = Object.fromEntries(
      readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(outputs).toEqual({
      image: imagePath(),
      checksum: `${imagePath()}.sha256sum`,
      packages: `${imagePath()}.txt`,
      manifest: `${imagePath()}.manifest.json`,
      sbom: `${imagePath()}.cdx.json`,
      tests: "passed",
    });
    expect(readFileSync(jobEnv, "utf8")).toBe(
      [
        "version_major=9",
        "alma_arch=x86_64",
        "IMAGE_TYPE=Gencloud",
        "RELEASE=9.6",
        "RELEASE_STRING=AlmaLinux release 9.6",
        "RELEASE_PACKAGE=almalinux-release",
        `AWS_S3_PATH=${PREFIX}`,
        `IMAGE_FILE=${imagePath()}`,
        `IMAGE_NAME=${IMAGE}`,
        "",
      ].join("\n"),
    );
  });

  it("--from verify reuses the earlier steps once the image still matches; publishing again skips", async () => {
    const r = await run(["--from", "verify", "--store", `file://${store}`]);
    expect(r.code, r.stderr).toBe(0);
    const m = manifest();
    expect(m.steps.map((s) => [s.name, s.status])).toEqual([
      ["prepare", "reused"],
      ["build", "reused"],
      ["locate", "reused"],
      ["checksum", "reused"],
      ["verify", "ok"],
      ["test", "skipped"],
      ["publish", "ok"],
      ["release", "ok"],
      ["report", "ok"],
    ]);
    expect(r.stderr).toContain(`skipped (identical object exists): ${PREFIX}/${IMAGE}`);
  });

  it("a failed boot test blocks publishing and the report says so", async () => {
    // the busybox image has no bootloader: under OVMF nothing boots, the boot test's budget runs out
    const bucket = mkdtempSync(join(tmpdir(), "pipeline-boot-store-"));
    // the later tests resume from the recorded run: give them back its manifest
    const recorded = readFileSync(`${imagePath()}.manifest.json`);
    try {
      const r = await runCli(
        [
          "run",
          "--templates",
          dir,
          ...LEG,
          "--from",
          "test",
          "--boot-timeout",
          "15",
          "--accel",
          "tcg",
          "--store",
          `file://${bucket}`,
        ],
        { env },
      );
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /step test: boot test failed: boot-ssh \(expected SSH login as almalinux, found deadline\)/,
      );
      expect(r.stdout).toContain("Tests (boot) failed ❌");
      const m = manifest();
      expect(m.steps.slice(-4).map((s) => [s.name, s.status])).toEqual([
        ["test", "failed"],
        ["publish", "skipped"],
        ["release", "skipped"],
        ["report", "ok"],
      ]);
      expect(m.tests).toEqual({ offline: "passed", boot: "failed" });
      expect(m.bootTest?.checks.find((c) => c.name === "boot-ssh")?.status).toBe("fail");
      expect(existsSync(`${imagePath()}.boot.json`)).toBe(true);
      expect(readdirSync(bucket)).toEqual([]);
    } finally {
      writeFileSync(`${imagePath()}.manifest.json`, recorded);
      rmSync(bucket, { recursive: true, force: true });
    }
  }, 300_000);

  it("--from verify refuses an image that changed since the recorded run", async () => {
    const saved = readFileSync(imagePath());
    const changed = Buffer.from(saved);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff;
    writeFileSync(imagePath(), changed);
    try {
      const r = await run(["--from", "verify", "--store", `file://${store}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /changed since the recorded run \(SHA-256 differs\): re-run with --from checksum/,
      );
    } finally {
      writeFileSync(imagePath(), saved);
    }
  });

  it("--dry-run prints the exact Packer command and keys, running nothing", async () => {
    const r = await run(["--release", "9.6", "--timestamp", TS, "--store", `file://${store}`, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `build: TIME_STAMP=${TS} DATE_STAMP=${TS.slice(0, 8)} packer build -color=false -var qemu_binary=/usr/bin/qemu-system-x86_64 -var ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd -var ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd -only=qemu.almalinux-9-gencloud-x86_64 .`,
    );
    expect(r.stdout).toContain(`publish: put file://${store}/${PREFIX}/IMAGE.sha256sum (tags public=yes)`);
    const json = await run(["--release", "9.6", "--timestamp", TS, "--store", "none", "--dry-run", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout) as {
      dryRun: boolean;
      resolved: { s3Prefix: string };
      plan: string[];
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.resolved.s3Prefix).toBe(PREFIX);
    expect(plan.plan[0]).toBe("prepare: resolve gencloud 9 x86_64 release 9.6");
  });

  it("locate refuses two matching images, and names what the output directory holds when none match", async () => {
    const copy = join(dir, OUT, IMAGE.replace("20260220", "20260221"));
    cpSync(imagePath(), copy);
    let r = await run(["--from", "locate", "--store", "none"]);
    rmSync(copy);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /2 images match output-almalinux-9-gencloud-x86_64\/AlmaLinux-9-\*\.x86_64\.qcow2/,
    );

    const aside = join(dir, OUT, `${IMAGE}.aside`);
    renameSync(imagePath(), aside);
    try {
      r = await run(["--from", "locate", "--store", "none"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`step locate: no image matches .* \\(${OUT}: .*${IMAGE.replace(/\./g, "\\.")}\\.aside`),
      );
    } finally {
      renameSync(aside, imagePath());
    }
  });

  it("publishes to S3 (a local s3rver) with tags; a missing bucket fails publish, naming what was not published", async () => {
    const s3 = await startS3rver("almalinux-cloud");
    const home = mkdtempSync(join(tmpdir(), "pipeline-aws-"));
    try {
      const s3Args = ["--endpoint-url", s3.endpoint, "--path-style", "--region", "us-east-1"];
      let r = await run(
        ["--from", "publish", "--store", "s3://almalinux-cloud", ...s3Args],
        s3Env(home) as Record<string, string>,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(await listKeys(s3, PREFIX)).toEqual(
        [
          IMAGE,
          `${IMAGE}.cdx.json`,
          `${IMAGE}.sha256sum`,
          `${IMAGE}.txt`,
          `${IMAGE}.sigstore.json`,
          `${IMAGE}.test-result.sigstore.json`,
          "CHECKSUM",
          "CHECKSUM.asc",
        ]
          .map((n) => `${PREFIX}/${n}`)
          .sort(),
      );
      expect(await getObject(s3, `${PREFIX}/${IMAGE}.txt`)).toEqual(readFileSync(`${imagePath()}.txt`));
      expect(await getTags(s3, `${PREFIX}/${IMAGE}`)).toMatchObject({ public: "yes" });
      expect(manifest().published?.objects.find((o) => o.role === "image")?.url).toBe(
        `https://almalinux-cloud.s3-accelerate.dualstack.amazonaws.com/${PREFIX}/${IMAGE}`,
      );

      r = await run(
        ["--from", "publish", "--store", "s3://no-such-bucket", ...s3Args],
        s3Env(home) as Record<string, string>,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/step publish: .*no-such-bucket/);
      expect(r.stderr).toContain("==> report");
      const m = manifest();
      expect(m.steps.find((s) => s.name === "publish")?.status).toBe("failed");
      expect(m.steps.find((s) => s.name === "report")?.status).toBe("ok");
    } finally {
      await s3.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("--notify posts the Mattermost message; a failing webhook is loud but not fatal", async () => {
    const bodies: string[] = [];
    let status = 200;
    const server: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token`;
    try {
      let r = await run(["--from", "report", "--store", "none", "--notify"], {
        MATTERMOST_WEBHOOK_URL: url,
        MATTERMOST_CHANNEL: "cloud",
      });
      expect(r.code, r.stderr).toBe(0);
      const payload = JSON.parse(bodies[0]!);
      expect(payload.channel).toBe("cloud");
      expect(payload.text).toContain(
        "**AlmaLinux release 9.6 x86_64** Gencloud Image build `20260220143000`",
      );
      expect(r.stderr + r.stdout).not.toContain("secret-token");

      status = 400; // not retried, fails at once
      r = await run(["--from", "report", "--store", "none", "--notify"], { MATTERMOST_WEBHOOK_URL: url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: Mattermost notification failed/);
      expect(r.stderr + r.stdout).not.toContain("secret-token");
    } finally {
      server.close();
    }
  });

  it("the manifest tells one run's truth: a failed verify drops the earlier run's published block", async () => {
    let r = await run(["--from", "publish", "--store", `file://${store}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(manifest().published?.objects.length).toBe(4);
    r = await run(["--from", "verify", "--release", "9.5", "--store", `file://${store}`]);
    expect(r.code).toBe(1);
    let m = manifest();
    expect(m.verdict?.passed).toBe(false);
    expect(m.published).toBeUndefined();
    expect(m.steps.map((s) => [s.name, s.status]).slice(4)).toEqual([
      ["verify", "failed"],
      ["test", "skipped"],
      ["publish", "skipped"],
      ["release", "skipped"],
      ["report", "ok"],
    ]);
    // The summary links nothing: nothing was published by this run.
    expect(r.stdout).toContain("Tests (offline) failed ❌");
    expect(r.stdout).not.toContain(store);
    // --from publish on that run is refused: verify must pass first.
    r = await run(["--from", "publish", "--store", `file://${store}`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^cloud-images: error: --from publish needs a recorded run that got past verify, but in .*\.manifest\.json verify failed \(verification failed: .*\): resume with --from verify$/,
    );
    // Back to the passing run for the tests after this one.
    r = await run(["--from", "verify", "--release", "9.6", "--store", `file://${store}`]);
    expect(r.code, r.stderr).toBe(0);
    m = manifest();
    // The same image, checksum and list are there already (the SBOM is new: it has a time stamp).
    expect(m.published?.objects.filter((o) => o.role !== "sbom").map((o) => o.skipped)).toEqual([
      true,
      true,
      true,
    ]);
  }, 300_000);

  it("refuses to build over a stale output directory unless --clean", async () => {
    const r = await run(["--release", "9.6", "--timestamp", TS, "--store", "none"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /step prepare: .*output-almalinux-9-gencloud-x86_64 exists from an earlier run .*--clean/,
    );
    // A finished build is named as one, not as a partial build.
    expect(r.stderr).toContain(`that built ${IMAGE} (time stamp ${TS}); pass --clean to replace it`);
    expect(existsSync(imagePath())).toBe(true);
    // What a build that did not finish leaves is called that.
    const partial = mkdtempSync(join(tmpdir(), "pipeline-partial-"));
    try {
      cpSync(join(DEMO_DIR, TEMPLATE), join(partial, TEMPLATE));
      mkdirSync(join(partial, OUT));
      writeFileSync(join(partial, OUT, "disk.qcow2.lock"), "");
      const p = await runCli(["run", "--templates", partial, ...LEG, "--release", "9.6", "--store", "none"], {
        env,
      });
      expect(p.code).toBe(1);
      expect(p.stderr).toContain(
        "exists from an earlier run that did not finish (disk.qcow2.lock); remove it or pass --clean",
      );
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });

  it("a failed verification still reports, publishes nothing, exits 1; --from verify with the right release passes", async () => {
    const failStore = join(dir, "bucket-fail");
    let r = await run(["--release", "9.7", "--timestamp", TS, "--store", `file://${failStore}`, "--clean"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /step verify: verification failed: release-file \(expected AlmaLinux release 9\.7/,
    );
    expect(r.stdout).toContain("Tests (offline) failed ❌");
    let m = manifest();
    expect(m.tests.offline).toBe("failed");
    expect(m.steps.map((s) => [s.name, s.status])).toEqual([
      ["prepare", "ok"],
      ["build", "ok"],
      ["locate", "ok"],
      ["checksum", "ok"],
      ["verify", "failed"],
      ["test", "skipped"],
      ["publish", "skipped"],
      ["release", "skipped"],
      ["report", "ok"],
    ]);
    expect(existsSync(failStore)).toBe(false);

    r = await run(["--from", "verify", "--release", "9.6", "--store", `file://${failStore}`]);
    expect(r.code, r.stderr).toBe(0);
    m = manifest();
    expect(m.tests.offline).toBe("passed");
    expect(m.resolved.s3Prefix).toBe(PREFIX);
    expect(readdirSync(join(failStore, PREFIX))).toContain(IMAGE);
    expect(m.steps.slice(0, 4).every((s) => s.status === "reused")).toBe(true);
  }, 600_000);

  it("a failing Packer build fails the build step and keeps its log", async () => {
    const broken = mkdtempSync(join(tmpdir(), "pipeline-broken-"));
    try {
      cpSync(join(DEMO_DIR, TEMPLATE), join(broken, TEMPLATE));
      const vars = readFileSync(join(dir, "demo.auto.pkrvars.hcl"), "utf8").replace(
        /base_image\s*=\s*"[^"]*"/,
        `base_image = "${join(broken, "missing.qcow2")}"`,
      );
      writeFileSync(join(broken, "demo.auto.pkrvars.hcl"), vars);
      const state = join(broken, "state");
      const r = await runCli(
        ["run", "--templates", broken, ...LEG, "--release", "9.6", "--timestamp", TS, "--store", "none"],
        { env: { ...env, CLOUD_IMAGES_STATE_DIR: state } },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/step build: packer build failed \(exit \d+\)/);
      // Without an image, the manifest and the build log stay in the leg's state directory.
      const [legDir] = readdirSync(join(state, "legs"));
      expect(legDir).toMatch(new RegExp(`^${OUT}-[0-9a-f]{12}$`));
      const early = JSON.parse(
        readFileSync(join(state, "legs", legDir!, "manifest.json"), "utf8"),
      ) as LegManifest;
      expect(early.steps.map((s) => [s.name, s.status])).toEqual([
        ["prepare", "ok"],
        ["build", "failed"],
      ]);
      expect(readFileSync(join(state, "legs", legDir!, "packer.log"), "utf8")).toContain("missing.qcow2");
      expect(readdirSync(broken).filter((f) => f.endsWith(".json") || f.endsWith(".log"))).toEqual([]);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("cloud-images run: bad input and a missing Packer", () => {
  const demo = DEMO_DIR;
  it.each([
    [["--type", "oci", "--variant", "10-kitten", "--arch", "x86_64"], /not a leg in the catalog/],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--from", "bake"],
      /invalid --from step "bake"/,
    ],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--from", "publish", "--to", "build"],
      /--from publish comes after --to build/,
    ],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--timestamp", "$(id)"],
      /invalid time stamp/,
    ],
    [["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--store", "ftp://x"], /unsupported store/],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--notify"],
      /--notify needs MATTERMOST_WEBHOOK_URL/,
    ],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--templates", "/nonexistent"],
      /templates directory \/nonexistent does not exist/,
    ],
    [
      ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--waivers", "/nonexistent.yaml"],
      /\/nonexistent\.yaml: cannot read it \(ENOENT\)/,
    ],
  ])("%j exits 2 with one line", async (args, message) => {
    const r = await runCli(["run", "--templates", demo, ...args], { env: { MATTERMOST_WEBHOOK_URL: "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a missing packer fails prepare with how to install it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pipeline-nopacker-"));
    try {
      cpSync(join(DEMO_DIR, TEMPLATE), join(dir, TEMPLATE));
      const r = await runCli(
        [
          "run",
          "--templates",
          dir,
          ...LEG,
          "--release",
          "9.6",
          "--store",
          "none",
          "--packer",
          "/nonexistent/packer",
        ],
        { env: { CLOUD_IMAGES_STATE_DIR: join(dir, "state") } },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/step prepare: packer not found: install it/);
      expect(basename(dir)).toMatch(/pipeline-nopacker/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(missingTools(["packer", "/usr/bin/qemu-system-x86_64"]) !== null)(
    "a template writing an image the leg would not find fails prepare, before Packer runs",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "pipeline-misnamed-"));
      try {
        const template = readFileSync(join(DEMO_DIR, TEMPLATE), "utf8");
        const misnamed = template.replace(/(vm_name\s*=\s*"[^"]*)\.x86_64\.qcow2"/, '$1.aarch64.qcow2"');
        expect(misnamed).not.toBe(template);
        writeFileSync(join(dir, TEMPLATE), misnamed);
        const state = mkdtempSync(join(tmpdir(), "pipeline-misnamed-state-"));
        const env = {
          CHECKPOINT_DISABLE: "1",
          GITHUB_ACTIONS: "",
          GITHUB_STEP_SUMMARY: "",
          CLOUD_IMAGES_STATE_DIR: state,
        };
        const r = await runCli(["run", "--templates", dir, ...LEG, "--release", "9.6", "--store", "none"], {
          env,
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /step prepare: source qemu\.almalinux-9-gencloud-x86_64 \(almalinux-demo\.pkr\.hcl\) writes output-almalinux-9-gencloud-x86_64\/AlmaLinux-9-GenericCloud-9\.6-.*\.aarch64\.qcow2, which the output mask output-almalinux-9-gencloud-x86_64\/AlmaLinux-9-\*\.x86_64\.qcow2 cannot match/,
        );
        expect(r.stderr).not.toContain("==> build");
        expect(existsSync(join(dir, OUT))).toBe(false);
        // Nothing was written into the templates directory.
        expect(readdirSync(dir)).toEqual([TEMPLATE]);

        // --from on the manifest of that failed prepare says what must run first (it crashed before).
        const [legDir] = readdirSync(join(state, "legs"));
        const early = join(state, "legs", legDir!, "manifest.json");
        const again = await runCli(
          ["run", "--templates", dir, ...LEG, "--from", "checksum", "--store", "none"],
          {
            env,
          },
        );
        expect(again.code).toBe(2);
        expect(again.stderr).toBe(
          `cloud-images: error: --from checksum needs a recorded run that got past prepare, but in ${early} prepare failed (${JSON.parse(readFileSync(early, "utf8")).steps[0].error}): run the leg again without --from\n`,
        );
        // A corrupt manifest is named.
        writeFileSync(early, '{"schemaVersion": 1, "leg": ');
        const corrupt = await runCli(
          ["run", "--templates", dir, ...LEG, "--from", "locate", "--store", "none"],
          {
            env,
          },
        );
        expect(corrupt.code).toBe(2);
        expect(corrupt.stderr).toMatch(
          new RegExp(`^cloud-images: error: the leg manifest ${early} is not valid JSON: .+\n$`),
        );
        rmSync(state, { recursive: true, force: true });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
