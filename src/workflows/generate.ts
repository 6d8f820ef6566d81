/** The generated CI files: their text, writing them, and comparing them with what is on disk. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { WORKFLOW_IDS, WORKFLOWS } from "../catalog/catalog.js";
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
  const files = generatedFiles();
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
  return files.map((f) => f.path);
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
