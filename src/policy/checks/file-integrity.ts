/**
 * file-integrity (`--deep`): an offline `rpm -Va`. For every file of every installed package, what is in
 * the image (read through its mounts, symlinks not followed, as rpm's lstat) against what the rpm
 * database records: the type, a regular file's size and digest (FILEDIGESTALGO), a symlink's target.
 * Skipped, as rpm skips them or as an image build expects: %ghost files, %config files (configured by the
 * build), files rpm did not install (--excludedocs, other languages, other colors), what %verify(not ...)
 * excludes, and paths matching the rule's `exclude`. Missing %missingok files are fine.
 */
import { createHash } from "node:crypto";
import type { TreeNode } from "../../fs/mounts.js";
import { findImageRpmdb } from "../../inspect/rpmdb.js";
import { FileFlag, FileState, packageFileList, type RpmFileEntry, VerifyFlag } from "../../rpm/files.js";
import { nevra, packageFromHeader } from "../../rpm/package.js";
import { readRpmdbHeaders } from "../../rpm/rpmdb/index.js";
import { defineCheck, verdictOf } from "../check.js";
import { matchesPath } from "../glob.js";
import type { CheckRule, Finding } from "../types.js";
import type { ImageView } from "../view.js";

export interface FileIntegrityRule extends CheckRule {
  /** Path patterns left out (e.g. files a site's build changes on purpose). */
  readonly exclude?: readonly string[];
}

/** What the image has at a packaged path (null: nothing). */
export interface FoundFile {
  readonly type: string;
  readonly size: number;
  /** Regular files whose size matched: the digest, in the package's algorithm. */
  readonly digest?: string;
  readonly linkTo?: string;
}

export interface CheckedFile {
  readonly package: string;
  readonly entry: RpmFileEntry;
  readonly found: FoundFile | null;
}

export interface IntegrityFacts {
  readonly files: readonly CheckedFile[];
  /** Bytes hashed (for the throughput figure). */
  readonly bytesHashed: number;
  readonly packages: number;
}

/** Read size per step; the next chunk is read while this one is hashed. */
const CHUNK = 4 * 1024 * 1024;

/** The digest of a regular file's content, reading the next chunk while hashing this one. */
export async function digestNode(node: TreeNode, algo: string): Promise<string> {
  const hash = createHash(algo);
  const size = node.stat.size;
  let next = size > 0 ? node.fs.read(node.ino, 0, Math.min(CHUNK, size)) : undefined;
  for (let offset = 0; next; ) {
    const chunk = await next;
    offset += chunk.length;
    next =
      offset < size && chunk.length > 0
        ? node.fs.read(node.ino, offset, Math.min(CHUNK, size - offset))
        : undefined;
    hash.update(chunk);
  }
  return hash.digest("hex");
}

/** Whether rpm -V would look at this file at all. */
export function isVerified(entry: RpmFileEntry, exclude: readonly string[]): boolean {
  if (entry.flags & (FileFlag.GHOST | FileFlag.CONFIG)) return false;
  if (entry.state !== FileState.NORMAL && entry.state !== FileState.REPLACED) return false;
  return !exclude.some((p) => matchesPath(entry.path, p));
}

/** What is wrong with one file, or undefined. */
export function fileProblem(entry: RpmFileEntry, found: FoundFile | null): string | undefined {
  if (found === null) return entry.flags & FileFlag.MISSINGOK ? undefined : "missing";
  if (found.type !== entry.type) return `is a ${found.type}, the package has a ${entry.type}`;
  if (entry.type === "file") {
    if (entry.verifyFlags & VerifyFlag.SIZE && found.size !== entry.size) {
      return `size ${found.size}, the package has ${entry.size}`;
    }
    if (
      entry.verifyFlags & VerifyFlag.DIGEST &&
      found.digest !== undefined &&
      found.digest !== entry.digest
    ) {
      return "content differs from the package's digest";
    }
  }
  if (entry.type === "symlink" && entry.verifyFlags & VerifyFlag.LINKTO && found.linkTo !== entry.linkTo) {
    return `points to ${found.linkTo}, the package has ${entry.linkTo}`;
  }
  return undefined;
}

export function evaluateIntegrity(facts: IntegrityFacts) {
  const findings: Finding[] = [];
  for (const f of facts.files) {
    const problem = fileProblem(f.entry, f.found);
    if (problem)
      findings.push({ subject: f.entry.path, message: `${f.entry.path} (${f.package}): ${problem}` });
  }
  const mib = (facts.bytesHashed / 2 ** 20).toFixed(0);
  return verdictOf(
    findings,
    `${facts.files.length} files of ${facts.packages} packages match the rpm database (${mib} MiB hashed)`,
    { expected: "packaged files as installed" },
  );
}

async function gatherIntegrity(view: ImageView, rule: FileIntegrityRule): Promise<IntegrityFacts> {
  const db = await findImageRpmdb(view.opened.paths);
  const { headers } = await readRpmdbHeaders(db.dir);
  const exclude = rule.exclude ?? [];
  const seen = new Map<string, FoundFile | null>();
  const files: CheckedFile[] = [];
  let bytesHashed = 0;
  for (const { instance, header } of headers) {
    const pkg = packageFromHeader(header);
    const list = packageFileList(header, `rpm database record ${instance} (${pkg.name})`);
    for (const entry of list.files) {
      if (!isVerified(entry, exclude)) continue;
      const key = `${entry.path}\0${list.digestAlgo}`;
      let found = seen.get(key);
      if (found === undefined) {
        const node = await view.tree.find(entry.path, { followFinal: false });
        if (!node) found = null;
        else {
          const type =
            node.stat.type === "file" || node.stat.type === "dir" || node.stat.type === "symlink"
              ? node.stat.type
              : "other";
          const base = { type, size: node.stat.size };
          if (
            type === "file" &&
            entry.type === "file" &&
            node.stat.size === entry.size &&
            entry.verifyFlags & VerifyFlag.DIGEST
          ) {
            found = { ...base, digest: await digestNode(node, list.digestAlgo) };
            bytesHashed += node.stat.size;
          } else if (type === "symlink") found = { ...base, linkTo: await node.fs.readLink(node.ino) };
          else found = base;
        }
        seen.set(key, found);
      }
      files.push({ package: nevra(pkg), entry, found });
    }
  }
  return { files, bytesHashed, packages: headers.length };
}

export const fileIntegrity = defineCheck<FileIntegrityRule, IntegrityFacts>({
  name: "file-integrity",
  summary:
    "(--deep) every packaged file's size and digest match the rpm database; %ghost and %config skipped",
  deep: true,
  gather: gatherIntegrity,
  evaluate: evaluateIntegrity,
});
