/**
 * Everything the demo template needs before `packer build`, written into the template directory: the base
 * disk, the guest's initramfs, and demo.auto.pkrvars.hcl with this machine's paths and accelerator.
 */
import { accessSync, constants, rmSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "../../../src/errors.js";
import { type DemoBase, prepareDemoBase } from "./base-image.js";
import { buildInitramfs, type Initramfs, installInitramfs } from "./initramfs.js";
import { type AcceleratorChoice, chooseAccelerator } from "./kvm-probe.js";
import { type PackerValue, writePkrVars } from "./pkrvars.js";

export const TEMPLATE_FILE = "almalinux-demo.pkr.hcl";
export const PKRVARS_FILE = "demo.auto.pkrvars.hcl";
export const BASE_FILE = "base.qcow2";
export const INITRD_FILE = "initrd.cpio.gz";
/** The template's source; Packer's default output directory is output-<source name>. */
export const DEMO_SOURCE = "almalinux-9-gencloud-x86_64";
export const SERIAL_LOG = `serial-${DEMO_SOURCE}.log`;

export interface PrepareOptions {
  /** The template directory (examples/demo, or a copy of it). */
  dir: string;
  /**
   * Pins the build stamp (YYYYMMDDhhmmss) the guest writes, for builds that run Packer directly; without
   * it the guest writes the stamp `cloud-images run` gives Packer (TIME_STAMP), so any later run works.
   */
  buildStamp?: string;
  /** auto: KVM when a probe boot under it works, else TCG. */
  accelerator?: "auto" | "kvm" | "tcg";
  qemuBinary?: string;
  kvmDevice?: string;
  log?: (line: string) => void;
}

export interface PreparedDemo {
  base: DemoBase;
  initramfs: Initramfs;
  accelerator: AcceleratorChoice;
  pkrvarsPath: string;
  vars: Record<string, PackerValue>;
}

function requireReadable(path: string, why: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new EnvironmentError(`cannot read ${path} (${why})`);
  }
}

export async function prepareDemo(options: PrepareOptions): Promise<PreparedDemo> {
  const log = options.log ?? (() => {});
  const qemuBinary = options.qemuBinary ?? "/usr/bin/qemu-system-x86_64";

  const started = Date.now();
  const base = await prepareDemoBase(join(options.dir, BASE_FILE), log);
  log(`base image ready (${((Date.now() - started) / 1000).toFixed(1)} s): ${base.path}`);

  const initramfs = await buildInitramfs();
  requireReadable(initramfs.kernel.path, "Debian installs kernels readable by root only: run as root");
  const initrd = join(options.dir, INITRD_FILE);
  installInitramfs(initramfs, initrd);
  log(
    `guest: kernel ${initramfs.kernel.version}, initramfs ${initramfs.cached ? "from the cache" : "built"} ` +
      `(${initramfs.modules.length} modules)`,
  );

  const wanted = options.accelerator ?? "auto";
  const probe = { qemuBinary, kernel: initramfs.kernel.path, initrd };
  const accelerator: AcceleratorChoice =
    wanted === "auto"
      ? await chooseAccelerator({ ...probe, ...(options.kvmDevice ? { kvmDevice: options.kvmDevice } : {}) })
      : { accelerator: wanted };

  const vars: Record<string, PackerValue> = {
    kernel: initramfs.kernel.path,
    initrd,
    base_image: base.path,
    base_image_checksum: `sha256:${base.sha256}`,
    accelerator: accelerator.accelerator,
    ...(options.buildStamp ? { build_stamp: options.buildStamp } : {}),
  };
  const pkrvarsPath = join(options.dir, PKRVARS_FILE);
  writePkrVars(
    pkrvarsPath,
    vars,
    "Written by examples/demo/run-demo.ts for this machine; do not edit or commit.",
  );
  return { base, initramfs, accelerator, pkrvarsPath, vars };
}

/** Removes what an earlier demo build left in `dir`: its output directory and serial log, nothing else. */
export function removeStaleOutputs(dir: string): string[] {
  const removed: string[] = [];
  for (const name of [`output-${DEMO_SOURCE}`, SERIAL_LOG]) {
    const path = join(dir, name);
    try {
      accessSync(path);
    } catch {
      continue;
    }
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
