/**
 * `npm run demo`: one real build leg on this machine. Installs the Debian packages it needs (as root),
 * prepares the demo template (the realistic test guest, a build key and seed, machine variables) and the
 * release keys, then runs `cloud-images run --templates examples/demo ...` (Packer over SSH, verify, the
 * boot test, publish, release, report), checks the released folder with `cloud-images verify-release`,
 * and says where the files are.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { EXIT_FAILURE, EXIT_USAGE, isCloudImagesError } from "../../src/errors.js";
import { handleInterrupts, runChild } from "../../src/process/index.js";
import { parseTimeStamp, resolve, stampsFor } from "../../src/resolve/index.js";
import { DEMO_PACKAGES, installCommand, missingPackages } from "./lib/packages.js";
import { CLEANUP_SCRIPT, prepareDemo, removeStaleOutputs, SERIAL_LOG, TEMPLATE_FILE } from "./lib/prepare.js";
import { type DemoReleaseKeys, demoReleaseKeys } from "./lib/release-keys.js";

const DEMO_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LEG = { type: "gencloud", variant: "9", arch: "x86_64", release: "9.6" } as const;

interface Options {
  dir: string;
  timestamp?: string;
  store?: string;
  accelerator: "auto" | "kvm" | "tcg";
  prepareOnly?: boolean;
}

const say = (line: string) => console.log(`demo: ${line}`);
const warn = (line: string) => console.error(`demo: warning: ${line}`);

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function ensurePackages(): void {
  const missing = missingPackages([...DEMO_PACKAGES]);
  if (missing.length === 0) return;
  const install = installCommand(missing);
  if (!isRoot()) {
    throw new ExitError(EXIT_USAGE, `missing Debian packages (${missing.join(", ")}); run: ${install.line}`);
  }
  say(`installing ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync(install.argv[0]!, [...install.argv.slice(1, 3), "update"], {
    stdio: "inherit",
    env,
  });
  if (update.status !== 0) warn("apt-get update failed; trying the install with the current package lists");
  const r = spawnSync(install.argv[0]!, install.argv.slice(1), { stdio: "inherit", env });
  if (r.status !== 0)
    throw new ExitError(EXIT_FAILURE, `package installation failed: ${install.line.slice(5)}`);
}

/** Runs a CLI command with inherited stdio; resolves with its exit code. */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<number> {
  try {
    const r = await runChild(process.execPath, [join(REPO_ROOT, "bin/cloud-images.js"), ...args], {
      cwd: REPO_ROOT,
      stdout: "inherit",
      stderr: "inherit",
      env: { ...process.env, ...env, CHECKPOINT_DISABLE: "1" }, // Packer's version check calls home otherwise
    });
    return r.exitCode ?? (r.signal ? 128 + (constants.signals[r.signal] ?? 0) : EXIT_FAILURE);
  } catch (e) {
    console.error(`demo: cannot start cloud-images: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function describe(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  const rel = fromCwd && !fromCwd.startsWith("..") ? fromCwd : path;
  try {
    const st = statSync(path);
    return st.isDirectory() ? `${rel}/` : `${rel} (${size(st.size)})`;
  } catch {
    return rel;
  }
}

/** The directory a file:// store keeps objects in (relative paths are from the repository, run's cwd). */
function localStoreDir(store: string | undefined): string | null {
  const url = store ?? "file://./dist/bucket";
  return url.startsWith("file://") ? resolvePath(REPO_ROOT, url.slice("file://".length)) : null;
}

function summary(
  dir: string,
  outputDir: string,
  store: string | null,
  prefix: string,
  code: number,
  keys: DemoReleaseKeys,
  verified: number | undefined,
): void {
  console.log("");
  say(code === 0 ? "the build leg succeeded" : `the build leg failed (exit ${code})`);
  if (existsSync(outputDir)) {
    say("files next to the image:");
    for (const name of readdirSync(outputDir).sort()) console.log(`  ${describe(join(outputDir, name))}`);
  } else {
    say(`no output directory (${describe(outputDir)}): Packer did not produce an image`);
  }
  const serial = join(dir, SERIAL_LOG);
  if (existsSync(serial)) say(`guest console log: ${describe(serial)}`);
  const storeDir = store ? join(store, prefix) : null;
  if (store && storeDir) {
    if (existsSync(storeDir)) {
      say(`published and released to the local store: ${describe(storeDir)}`);
      for (const name of readdirSync(storeDir).sort()) {
        if (!name.endsWith(".meta.json") && !name.endsWith(".tags.json")) console.log(`  ${name}`);
      }
      for (const index of ["9.json", "v1/index.json", "v1/com.almalinux.cloud:released:download.json"]) {
        const path = join(store, "streams", index);
        if (existsSync(path)) say(`index: ${describe(path)}`);
      }
    } else if (code === 0) {
      say(`nothing under ${describe(storeDir)}`);
    }
  }
  const made = (k: "openpgp" | "attestation") =>
    keys.generated.includes(k) ? "a throwaway key made for this run" : "from the environment";
  say(`OpenPGP public key (${made("openpgp")}, ${keys.fingerprint}): ${describe(keys.openpgpPublic)}`);
  say(`attestation public key (${made("attestation")}): ${describe(keys.attestationPublic)}`);
  if (verified !== undefined) {
    say(
      verified === 0
        ? "verify-release: the released folder verifies"
        : `verify-release failed (exit ${verified})`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("run-demo")
    .description(
      "build the demo leg (GenericCloud 9.6 x86_64) with Packer + QEMU from the test guest, then verify it, boot-test it, publish and release it locally",
    )
    .option("--dir <dir>", "where to prepare and build (the template is copied there)", DEMO_DIR)
    .option("--timestamp <YYYYMMDDhhmmss>", "the run's UTC time stamp (default: now)")
    .option(
      "--store <url>",
      "object store passed to `cloud-images run` (default: its own, file://./dist/bucket)",
    )
    .addOption(
      new Option("--accelerator <mode>", "QEMU accelerator; auto uses KVM when a probe guest runs under it")
        .choices(["auto", "kvm", "tcg"])
        .default("auto"),
    )
    .option(
      "--prepare-only",
      "prepare the template directory (the test guest, build key and seed, variables) and stop; `cloud-images run` builds it",
    )
    .addHelpText(
      "after",
      "\nExample:\n  npm run demo\n  npm run demo -- --accelerator tcg --timestamp 20260220143000\n  npm run demo -- --prepare-only",
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : EXIT_USAGE;
  }
  const options = program.opts<Options>();
  const buildStamp = options.timestamp
    ? parseTimeStamp(options.timestamp).timeStamp
    : stampsFor(new Date()).timeStamp;
  const leg = resolve({ ...LEG, timestamp: buildStamp });
  const dir = resolvePath(options.dir);
  const outputDir = join(dir, dirname(leg.outputMask));

  ensurePackages();
  if (!isRoot()) {
    throw new ExitError(
      EXIT_USAGE,
      "the demo needs root (the test guest is made with mmdebstrap, rpm --root and loop mounts); run: sudo npm run demo",
    );
  }

  if (dir !== resolvePath(DEMO_DIR)) {
    for (const file of [TEMPLATE_FILE, CLEANUP_SCRIPT]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(DEMO_DIR, file), join(dir, file));
    }
  }
  const prepared = await prepareDemo({ dir, accelerator: options.accelerator, log: say });
  if (prepared.accelerator.warning) warn(prepared.accelerator.warning);
  say(`accelerator: ${prepared.accelerator.accelerator}; variables in ${describe(prepared.pkrvarsPath)}`);
  const inRepo = !relative(REPO_ROOT, dir).startsWith("..");
  const args = ["run", "--templates", inRepo ? relative(REPO_ROOT, dir) || "." : dir];
  args.push("--type", LEG.type, "--variant", LEG.variant, "--arch", LEG.arch, "--release", LEG.release);
  if (options.prepareOnly) {
    say(`prepared; build it with: cloud-images ${args.join(" ")}${existsSync(outputDir) ? " --clean" : ""}`);
    return 0;
  }
  for (const path of removeStaleOutputs(dir)) say(`removed ${describe(path)} from an earlier run`);
  const store = localStoreDir(options.store);
  // The public halves go beside a local store (dist/release-keys for the default dist/bucket).
  const keys = await demoReleaseKeys(join(store ? dirname(store) : join(REPO_ROOT, "dist"), "release-keys"));
  if (keys.generated.length > 0)
    say(`release keys: made throwaway ${keys.generated.join(" and ")} keys for this run`);

  args.push("--timestamp", buildStamp, "--accel", prepared.accelerator.accelerator);
  if (options.store) args.push("--store", options.store);
  say(`cloud-images ${args.join(" ")}`);
  const code = await runCli(args, keys.env);
  const storeDir = store ? join(store, leg.s3Prefix) : null;
  let verified: number | undefined;
  if (code === 0 && storeDir) {
    const verify = [
      "verify-release",
      storeDir,
      "--key",
      keys.openpgpPublic,
      "--attestation-key",
      keys.attestationPublic,
    ];
    say(
      `cloud-images ${verify.map((a) => (a.startsWith("/") ? relative(process.cwd(), a) || a : a)).join(" ")}`,
    );
    verified = await runCli(verify);
  }
  summary(dir, outputDir, store, leg.s3Prefix, code, keys, verified);
  return code !== 0 ? code : (verified ?? 0);
}

// Ctrl-C and SIGTERM reach cloud-images (and through it Packer and QEMU), which record and stop the run.
const interrupts = handleInterrupts();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = interrupts.received?.exitCode ?? code;
  },
  (e: unknown) => {
    if (e instanceof ExitError) {
      console.error(`demo: ${e.message}`);
      process.exitCode = e.code;
    } else if (isCloudImagesError(e)) {
      console.error(`demo: ${e.message}`);
      process.exitCode = e.exitCode;
    } else {
      console.error(e);
      process.exitCode = EXIT_FAILURE;
    }
  },
);
