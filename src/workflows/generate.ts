/** The generated CI files: their text, writing them, and comparing them with what is on disk. */
import { readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { WORKFLOW_IDS, WORKFLOWS } from "../catalog/catalog.js";
import { OutputFileError, UsageError } from "../errors.js";
import { makeDirs } from "../files.js";
import { buildWorkflow } from "./build-workflow.js";
import { unifiedDiff } from "./diff.js";
import { HEADER, SHARED_ACTION_DIR, WORKFLOWS_DIR } from "./layout.js";
import { buildScheduledWorkflow, SCHEDULED_WORKFLOW_FILE } from "./scheduled-workflow.js";
import { buildSharedAction } from "./shared-action.js";
import { toYamlText } from "./yaml-text.js";

export interface GeneratedFile {
  /** Path relative to the repository root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

/** Every generated file, in a fixed order: the build workflows, the scheduler, the shared action. */
export function generatedFiles(): GeneratedFile[] {
  const workflows = WORKFLOW_IDS.map((id) => ({
    path: `${WORKFLOWS_DIR}/${WORKFLOWS[id].file}`,
    content: toYamlText(buildWorkflow(id), HEADER, ["jobs"]),
  }));
  const scheduled = {
    path: `${WORKFLOWS_DIR}/${SCHEDULED_WORKFLOW_FILE}`,
    content: toYamlText(buildScheduledWorkflow(), HEADER, ["jobs"]),
  };
  const action = {
    path: `${SHARED_ACTION_DIR}/action.yml`,
    content: toYamlText(buildSharedAction(), HEADER),
  };
  return [...workflows, scheduled, action];
}

/** Writes every generated file under `root`; returns the paths written (relative to root). */
export async function writeGeneratedFiles(root: string): Promise<string[]> {
  // A missing root is made, as `mkdir -p` would; a file there is refused.
  if (await stat(root).catch(() => undefined)) await requireDirectory(root, "--out");
  const files = generatedFiles();
  for (const file of files) {
    const target = join(root, file.path);
    try {
      await makeDirs(dirname(target));
      await writeFile(target, file.content);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new OutputFileError(`cannot write ${target}: ${code ?? (e as Error).message}`, code, {
        cause: e,
      });
    }
  }
  return files.map((f) => f.path);
}

/** The repository root the files are compared with (or go under) must be a directory. */
async function requireDirectory(root: string, flag: string): Promise<void> {
  const st = await stat(root).catch(() => undefined);
  if (!st) throw new UsageError(`${flag} ${root} does not exist (give the repository root)`);
  if (!st.isDirectory())
    throw new UsageError(`${flag} ${root} is not a directory (give the repository root)`);
}

export type DriftStatus = "same" | "differs" | "missing";

export interface FileDrift {
  readonly path: string;
  readonly status: DriftStatus;
  /** Unified diff from the file on disk to the generated text; empty when the same. */
  readonly diff: string;
}

/** Compares the files under `root` with what would be generated. */
export async function checkGeneratedFiles(root: string): Promise<FileDrift[]> {
  await requireDirectory(root, "--dir");
  const result: FileDrift[] = [];
  for (const file of generatedFiles()) {
    let onDisk: string | undefined;
    try {
      onDisk = await readFile(join(root, file.path), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const status: DriftStatus =
      onDisk === undefined ? "missing" : onDisk === file.content ? "same" : "differs";
    const diff =
      status === "same" ? "" : unifiedDiff(onDisk ?? "", file.content, `a/${file.path}`, `b/${file.path}`);
    result.push({ path: file.path, status, diff });
  }
  return result;
}
