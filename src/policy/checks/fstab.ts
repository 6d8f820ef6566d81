/**
 * fstab: every UUID=, LABEL=, PARTUUID=, PARTLABEL= (or /dev/disk/by-*) device in /etc/fstab names
 * exactly one filesystem or partition of the image, the entry for / names the root filesystem, and
 * each entry's type is the type of the filesystem it names.
 */
import type { Observed } from "../../inspect/checks.js";
import type { Fstab } from "../../inspect/fstab.js";
import { FSTAB_FILE, type Volume, volumesNamed } from "../../inspect/image-tree.js";
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Finding } from "../types.js";

export interface FstabFacts {
  readonly fstab: Observed<Fstab>;
  readonly volumes: readonly Volume[];
  readonly rootVolume: Volume;
}

const EXT = new Set(["ext2", "ext3", "ext4"]);

/** Would mount(8) with this fstab type mount that filesystem? (the ext4 driver mounts ext2/3 too) */
export function typeFits(fstabType: string, fs: string): boolean {
  if (fstabType === "auto" || fstabType === fs) return true;
  return fstabType === "ext4" && EXT.has(fs);
}

const where = (v: Volume) => (v.partition === null ? "the whole disk" : `partition ${v.partition}`);

export function evaluateFstab(facts: FstabFacts) {
  if (!facts.fstab.ok) {
    return {
      status: "fail" as const,
      found: "missing",
      message: `${FSTAB_FILE} cannot be read: ${facts.fstab.error}`,
    };
  }
  const { entries, malformed } = facts.fstab.value;
  const findings: Finding[] = malformed.map((m) => ({
    subject: FSTAB_FILE,
    message: `${FSTAB_FILE} line ${m.line} has fewer than three fields: "${m.text}"`,
  }));
  let root = false;
  for (const e of entries) {
    const at = `${e.spec} (line ${e.line}, ${e.mountPoint})`;
    const byDevice = e.source.kind === "device" || e.source.kind === "other";
    const named = byDevice ? [] : volumesNamed(e.source, facts.volumes);
    if (!byDevice && named.length === 0) {
      findings.push({ subject: e.spec, message: `${at} names no filesystem or partition of the image` });
      continue;
    }
    if (named.length > 1) {
      findings.push({
        subject: e.spec,
        message: `${at} names ${named.length} filesystems (${named.map(where).join(", ")})`,
      });
      continue;
    }
    const v = named[0];
    if (e.mountPoint === "/") {
      root = true;
      if (v && v.partition !== facts.rootVolume.partition) {
        findings.push({
          subject: e.spec,
          message: `${at} is ${where(v)}, but the root filesystem is on ${where(facts.rootVolume)}`,
        });
        continue;
      }
      if (!typeFits(e.fsType, facts.rootVolume.filesystem)) {
        findings.push({
          subject: e.spec,
          message: `${at} has type ${e.fsType}, the root filesystem is ${facts.rootVolume.filesystem}`,
        });
      }
    } else if (v && e.fsType !== "swap" && v.filesystem !== "unknown" && !typeFits(e.fsType, v.filesystem)) {
      findings.push({
        subject: e.spec,
        message: `${at} has type ${e.fsType}, ${where(v)} holds ${v.filesystem}`,
      });
    }
  }
  if (!root) findings.push({ subject: FSTAB_FILE, message: `${FSTAB_FILE} has no entry for /` });
  return verdictOf(
    findings,
    `${entries.length} entries, each naming a filesystem of the image; / is ${facts.rootVolume.filesystem}`,
  );
}

export const fstab = defineCheck<CheckRule, FstabFacts>({
  name: "fstab",
  summary:
    "every UUID=/LABEL=/PARTUUID= in /etc/fstab names a filesystem or partition of the image; / has the root's type",
  gather: async (view) => ({
    fstab: view.image.fstab,
    volumes: view.image.volumes,
    rootVolume: view.image.rootVolume,
  }),
  evaluate: (facts) => evaluateFstab(facts),
});
