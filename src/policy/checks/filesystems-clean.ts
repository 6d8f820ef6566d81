/**
 * filesystems-clean: every filesystem of the image was cleanly unmounted (ext4 without needs_recovery,
 * XFS with a clean log) and a qcow2 container does not carry its corrupt bit. An offline read of a dirty
 * filesystem can differ from what the kernel sees after replaying the journal, and a published image must
 * not need a replay.
 */
import { CloudImagesError } from "../../errors.js";
import { defineCheck, verdictOf } from "../check.js";
import type { CheckRule, Finding } from "../types.js";

export interface FilesystemState {
  /** e.g. `partition 4 (/, xfs)`. */
  readonly where: string;
  readonly clean: boolean | null;
  readonly detail: string;
}

export interface CleanFacts {
  readonly filesystems: readonly FilesystemState[];
  /** The qcow2 corrupt bit; null for raw images. */
  readonly qcow2Corrupt: boolean | null;
}

export function evaluateClean(facts: CleanFacts) {
  const findings: Finding[] = [];
  if (facts.qcow2Corrupt) {
    findings.push({
      subject: "qcow2",
      message: "the qcow2 image carries the corrupt bit (qemu found an inconsistency)",
    });
  }
  for (const f of facts.filesystems) {
    if (f.clean === false)
      findings.push({ subject: f.where, message: `${f.where} was not cleanly unmounted: ${f.detail}` });
  }
  const checked = facts.filesystems.filter((f) => f.clean !== null);
  const skipped = facts.filesystems.filter((f) => f.clean === null).map((f) => `${f.where}: ${f.detail}`);
  const note = skipped.length > 0 ? ` (not read: ${skipped.join("; ")})` : "";
  return verdictOf(findings, `${checked.length} filesystems cleanly unmounted${note}`);
}

export const filesystemsClean = defineCheck<CheckRule, CleanFacts>({
  name: "filesystems-clean",
  summary:
    "every filesystem was cleanly unmounted (ext4 needs_recovery, XFS log) and a qcow2 has no corrupt bit",
  async gather(view) {
    const mountOf = new Map<number | null, string>();
    mountOf.set(view.image.rootVolume.partition, "/");
    for (const m of view.image.mounts)
      if (m.mounted) mountOf.set(m.volumes[0]!.partition, m.entry.mountPoint);
    const readable = view.image.volumes.filter((v) =>
      ["xfs", "ext4", "ext3", "ext2", "vfat"].includes(v.filesystem),
    );
    // all at once: each is a few small reads (an XFS log search), and the waits overlap
    const filesystems = await Promise.all(
      readable.map(async (v): Promise<FilesystemState> => {
        const at = mountOf.get(v.partition);
        const where = `${v.partition === null ? "the disk" : `partition ${v.partition}`} (${at ? `${at}, ` : ""}${v.filesystem})`;
        try {
          const fs =
            v.partition === view.image.rootVolume.partition
              ? view.opened.fs
              : await view.opened.filesystem(v.partition);
          const state = await fs.cleanState();
          return { where, clean: state.clean, detail: state.detail };
        } catch (e) {
          if (!(e instanceof CloudImagesError)) throw e;
          return { where, clean: null, detail: e.message };
        }
      }),
    );
    return { filesystems, qcow2Corrupt: view.qcow2 ? view.qcow2.corrupt : null };
  },
  evaluate: evaluateClean,
});
