/**
 * Everything the demo template needs before `packer build`, written into the template directory: the
 * realistic guest (built or taken from the cache), a throwaway SSH key for this build, the NoCloud seed
 * Packer serves to the guest (http/), and demo.auto.pkrvars.hcl with this machine's paths and accelerator.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BuiltGuest, buildGuest } from "../../../guestgen/index.js";
import { type AcceleratorChoice, chooseAccelerator } from "../../../src/boot/accel.js";
import { requireProgram } from "../../../src/boot/host.js";
import { noCloudSeed } from "../../../src/boot/seed.js";
import { makeKeyPair } from "../../../src/boot/ssh.js";
import { type PackerValue, writePkrVars } from "./pkrvars.js";

export const TEMPLATE_FILE = "almalinux-demo.pkr.hcl";
export const CLEANUP_SCRIPT = "provision/cleanup.sh";
export const PKRVARS_FILE = "demo.auto.pkrvars.hcl";
/** Generated per build: the key (build/) and the seed Packer serves (http/). */
export const BUILD_DIR = "build";
export const HTTP_DIR = "http";
/** The template's source; Packer's default output directory is output-<source name>. */
export const DEMO_SOURCE = "almalinux-9-gencloud-x86_64";
export const SERIAL_LOG = `serial-${DEMO_SOURCE}.log`;

export interface PrepareOptions {
  /** The template directory (examples/demo, or a copy of it). */
  dir: string;
  /**
   * Pins the build stamp (YYYYMMDDhhmmss) the cleanup writes, for builds that run Packer directly; without
   * it the image gets the stamp `cloud-images run` gives Packer (TIME_STAMP), so any later run works.
   */
  buildStamp?: string;
  /** auto: KVM when a probe guest runs under it, else TCG. */
  accelerator?: "auto" | "kvm" | "tcg";
  qemuBinary?: string;
  log?: (line: string) => void;
}

export interface PreparedDemo {
  guest: BuiltGuest;
  accelerator: AcceleratorChoice;
  pkrvarsPath: string;
  vars: Record<string, PackerValue>;
}

export async function prepareDemo(options: PrepareOptions): Promise<PreparedDemo> {
  const log = options.log ?? (() => {});
  const qemuBinary = options.qemuBinary ?? "/usr/bin/qemu-system-x86_64";

  const started = Date.now();
  log("the test guest: Debian 12 with systemd, cloud-init, OpenSSH, SELinux; made once, then cached");
  const guest = await buildGuest({ log });
  log(`guest ready (${((Date.now() - started) / 1000).toFixed(0)} s): ${guest.raw}`);

  const build = join(options.dir, BUILD_DIR);
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  const key = await makeKeyPair(await requireProgram("ssh-keygen"), build);
  const http = join(options.dir, HTTP_DIR);
  mkdirSync(http, { recursive: true });
  const seed = noCloudSeed({ instanceId: `demo-build-${Date.now()}`, publicKey: key.publicKey });
  for (const [name, content] of Object.entries(seed)) writeFileSync(join(http, name), content);

  const wanted = options.accelerator ?? "auto";
  const accelerator = await chooseAccelerator(wanted, qemuBinary, "x86_64");

  const vars: Record<string, PackerValue> = {
    base_image: guest.raw,
    accelerator: accelerator.accelerator,
    ...(options.buildStamp ? { build_stamp: options.buildStamp } : {}),
    ssh_private_key_file: key.key,
  };
  const pkrvarsPath = join(options.dir, PKRVARS_FILE);
  writePkrVars(
    pkrvarsPath,
    vars,
    "Written by examples/demo/run-demo.ts for this machine; do not edit or commit.",
  );
  return { guest, accelerator, pkrvarsPath, vars };
}

/** Removes what an earlier demo build left in `dir`: its output directory and serial log, nothing else. */
export function removeStaleOutputs(dir: string): string[] {
  const removed: string[] = [];
  for (const name of [`output-${DEMO_SOURCE}`, SERIAL_LOG]) {
    const path = join(dir, name);
    try {
      rmSync(path, { recursive: true });
      removed.push(path);
    } catch {
      // not there
    }
  }
  return removed;
}
