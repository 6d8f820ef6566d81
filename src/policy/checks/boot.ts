/**
 * boot and kernel-cmdline: what GRUB and the kernel need to boot each installed kernel, read through the
 * image's mounts (/boot is its own partition in the AlmaLinux layout, so BLS paths are relative to it).
 */
import { fstabSource } from "../../inspect/fstab.js";
import { type Volume, volumesNamed } from "../../inspect/image-tree.js";
import {
  argValue,
  BLS_DIR,
  type BlsEntry,
  defaultEntry,
  entryArgs,
  GRUBENV,
  parseBlsEntry,
  parseGrubenv,
} from "../bootloader.js";
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Evaluation, Finding, RuleMeta } from "../types.js";
import { type ImageView, listNames, readText } from "../view.js";

/** A package whose installed version is a bootable kernel (`suffix` is appended to VERSION-RELEASE.ARCH). */
export interface KernelPackage extends RuleMeta {
  readonly package: string;
  readonly suffix?: string;
}

export interface BootRule extends CheckRule {
  readonly kernels?: readonly KernelPackage[];
  /** At least one of these must exist. */
  readonly grubConfigs?: readonly string[];
}

export interface KernelRuleArg extends RuleMeta {
  readonly arg: string;
}

export interface KernelCmdlineRule extends CheckRule {
  readonly arguments?: readonly KernelRuleArg[];
}

interface FileFact {
  readonly type: string;
  readonly size: number;
}

export interface InstalledKernel {
  readonly nevra: string;
  /** VERSION-RELEASE.ARCH (+suffix): the name part of /boot/vmlinuz-VER and /lib/modules/VER. */
  readonly ver: string;
}

export interface BootFacts {
  /** Null when the rpm database cannot be read. */
  readonly kernels: readonly InstalledKernel[] | null;
  /** The mount point /boot is on when it is its own filesystem (BLS paths are relative to it). */
  readonly bootPrefix: string;
  readonly entries: readonly BlsEntry[];
  readonly grubenv: ReadonlyMap<string, string>;
  /** Tree paths (vmlinuz, initramfs, what entries name, /lib/modules/VER, grub configs) → what is there. */
  readonly files: ReadonlyMap<string, FileFact | null>;
  readonly grubConfigs: readonly string[];
  readonly rootVolume: Volume;
}

const DEFAULT_GRUB_CONFIGS = ["/boot/grub2/grub.cfg", "/boot/efi/EFI/almalinux/grub.cfg"];

/** The tree path a BLS path names (BLS paths are relative to the filesystem holding the entries). */
const inTree = (facts: Pick<BootFacts, "bootPrefix">, blsPath: string) =>
  `${facts.bootPrefix}${blsPath.startsWith("/") ? "" : "/"}${blsPath}`;

/** Does a `root=` value name the root filesystem? */
export function rootArgNamesRoot(value: string, root: Volume): boolean {
  return volumesNamed(fstabSource(value), [root]).length === 1;
}

async function gatherBoot(
  view: ImageView,
  kernelPackages: readonly KernelPackage[],
  grubConfigs: readonly string[],
): Promise<BootFacts> {
  let kernels: InstalledKernel[] | null = null;
  if (view.packages.ok) {
    kernels = [];
    for (const k of kernelPackages) {
      for (const p of view.packages.value.filter((x) => x.name === k.package)) {
        const e = p.epoch === null ? "" : `${p.epoch}:`;
        kernels.push({
          nevra: `${p.name}-${e}${p.version}-${p.release}.${p.arch}`,
          ver: `${p.version}-${p.release}.${p.arch}${k.suffix ?? ""}`,
        });
      }
    }
  }
  const boot = await view.tree.find("/boot");
  const bootPrefix = boot && view.tree.mountOf(boot)?.path === "/boot" ? "/boot" : "";
  const entries: BlsEntry[] = [];
  for (const name of (await listNames(view.tree, BLS_DIR)) ?? []) {
    if (!name.endsWith(".conf")) continue;
    const text = await readText(view.tree, `${BLS_DIR}/${name}`);
    if (text !== null) entries.push(parseBlsEntry(name.slice(0, -".conf".length), text));
  }
  const envText = await readText(view.tree, GRUBENV);
  const paths = new Set<string>(grubConfigs);
  for (const k of kernels ?? []) {
    paths.add(`/boot/vmlinuz-${k.ver}`);
    paths.add(`/boot/initramfs-${k.ver}.img`);
    paths.add(`/lib/modules/${k.ver}`);
  }
  for (const e of entries)
    for (const p of [e.linux, ...e.initrd]) if (p) paths.add(inTree({ bootPrefix }, p));
  const files = new Map<string, FileFact | null>();
  for (const p of paths) {
    const n = await view.tree.find(p);
    files.set(p, n ? { type: n.stat.type, size: n.stat.size } : null);
  }
  return {
    kernels,
    bootPrefix,
    entries,
    grubenv: envText === null ? new Map() : parseGrubenv(envText),
    files,
    grubConfigs,
    rootVolume: view.image.rootVolume,
  };
}

export function evaluateBoot(facts: BootFacts): Evaluation {
  if (facts.kernels === null)
    return { status: "skip", message: "not checked: the rpm database cannot be read" };
  const findings: Finding[] = [];
  const file = (p: string) => facts.files.get(p) ?? null;
  const nonEmpty = (p: string, what: string, subject: string) => {
    const f = file(p);
    if (f?.type !== "file") findings.push({ subject, message: `${p} (${what}) is missing` });
    else if (f.size === 0) findings.push({ subject, message: `${p} (${what}) is empty` });
  };
  if (facts.kernels.length === 0) findings.push({ message: "no kernel package is installed" });
  for (const k of facts.kernels) {
    nonEmpty(`/boot/vmlinuz-${k.ver}`, `the kernel of ${k.nevra}`, k.nevra);
    nonEmpty(`/boot/initramfs-${k.ver}.img`, `the initramfs of ${k.nevra}`, k.nevra);
    if (file(`/lib/modules/${k.ver}`)?.type !== "dir") {
      findings.push({
        subject: k.nevra,
        message: `/lib/modules/${k.ver} (the modules of ${k.nevra}) is missing`,
      });
    }
    const entry = facts.entries.find((e) => e.id.endsWith(k.ver));
    if (!entry) {
      findings.push({ subject: k.nevra, message: `no boot entry ${BLS_DIR}/*${k.ver}.conf for ${k.nevra}` });
      continue;
    }
    const at = `${BLS_DIR}/${entry.id}.conf`;
    if (!entry.linux || inTree(facts, entry.linux) !== `/boot/vmlinuz-${k.ver}`) {
      findings.push({
        subject: at,
        message: `${at} boots "${entry.linux ?? "(no linux line)"}", not vmlinuz-${k.ver}`,
      });
    }
    if (!entry.initrd.some((i) => inTree(facts, i) === `/boot/initramfs-${k.ver}.img`)) {
      findings.push({ subject: at, message: `${at} does not load initramfs-${k.ver}.img` });
    }
    const root = argValue(entryArgs(entry, facts.grubenv), "root");
    if (root === undefined) {
      const via = /\$/.test(entry.options) ? ` (options "${entry.options}" expanded from ${GRUBENV})` : "";
      findings.push({ subject: at, message: `${at} passes no root=${via}` });
    } else if (!rootArgNamesRoot(root, facts.rootVolume)) {
      findings.push({ subject: at, message: `${at} passes root=${root}, which is not the root filesystem` });
    }
  }
  if (!facts.grubConfigs.some((p) => file(p)?.type === "file")) {
    findings.push({
      subject: facts.grubConfigs[0],
      message: `no GRUB configuration (${facts.grubConfigs.join(" or ")})`,
    });
  }
  const vers = facts.kernels.map((k) => k.ver).join(", ");
  return verdictOf(
    findings,
    `kernel ${vers}: files, modules and boot entry present; root= names the root filesystem`,
  );
}

export const boot = defineCheck<BootRule, BootFacts>({
  name: "boot",
  summary:
    "for every installed kernel: vmlinuz, initramfs, /lib/modules, a BLS entry naming them with root= the root filesystem; a grub.cfg",
  lists: { kernels: "package" },
  gather: (view, rule) => gatherBoot(view, rule.kernels ?? [], rule.grubConfigs ?? DEFAULT_GRUB_CONFIGS),
  evaluate: (facts) => evaluateBoot(facts),
});

export function evaluateKernelCmdline(facts: BootFacts, rule: KernelCmdlineRule): Evaluation {
  const required = rule.arguments ?? [];
  const expected = required.map((a) => a.arg).join(" ");
  const entry = defaultEntry(facts.entries, facts.grubenv);
  if (!entry) return { status: "fail", expected, message: `no boot entry in ${BLS_DIR}` };
  const args = entryArgs(entry, facts.grubenv);
  const at = `${BLS_DIR}/${entry.id}.conf`;
  const findings: Finding[] = required
    .filter((r) => !args.includes(r.arg))
    .map((r) => ({ subject: r.arg, message: `${at} lacks ${r.arg}${r.reason ? ` (${r.reason})` : ""}` }));
  const found = args.join(" ");
  if (findings.length === 0) {
    return {
      status: "pass",
      expected,
      found,
      message: `the default entry ${at} passes all ${required.length} required arguments`,
    };
  }
  return { status: "fail", expected, found, message: `${at}: missing`, findings };
}

export const kernelCmdline = defineCheck<KernelCmdlineRule, BootFacts>({
  name: "kernel-cmdline",
  summary: "the default boot entry's kernel arguments include the image type's required ones",
  lists: { arguments: "arg" },
  gather: (view) => gatherBoot(view, [], []),
  evaluate: evaluateKernelCmdline,
});
