/**
 * The weekly build schedule that `scheduled-builds.yml` fires: one build workflow per cron hour on
 * Mondays, all of them building the same major version that week. The version rotates oldest to
 * newest through the catalog's versions by the week number since the Unix epoch (stateless: every
 * version comes round every N weeks, N the number of versions). Pure.
 */
import {
  isVersion,
  VERSIONS,
  type Version,
  WORKFLOW_IDS,
  WORKFLOWS,
  type WorkflowId,
} from "../catalog/catalog.js";
import { UsageError } from "../errors.js";
import { printable } from "../text.js";

/** Firing order, one cron hour each (upstream's relative order of these four types). */
export const SCHEDULED_WORKFLOWS: readonly WorkflowId[] = ["opennebula", "gencloud", "azure", "oci"];

/**
 * Mondays at 02:17, 04:17, … UTC: two hours apart so the types do not ask for metal runners at once,
 * minute 17 away from GitHub's busy top of the hour, Monday far from the rotation's Thursday boundary.
 */
const MINUTE = 17;
const FIRST_HOUR = 2;
const HOURS_APART = 2;
const MONDAY = 1;

const WEEK_SECONDS = 7 * 24 * 60 * 60;

/** The rotation ring, oldest first: 8 → 9 → 10 → 10-kitten (the catalog lists newest first). */
export const ROTATION: readonly Version[] = [...VERSIONS].reverse();

export interface ScheduleEntry {
  readonly workflow: WorkflowId;
  /** The workflow file dispatched, e.g. `gencloud-build.yml`. */
  readonly file: string;
  /** Five-field cron, UTC. */
  readonly cron: string;
}

export function scheduleEntries(): ScheduleEntry[] {
  return SCHEDULED_WORKFLOWS.map((workflow, i) => ({
    workflow,
    file: WORKFLOWS[workflow].file,
    cron: `${MINUTE} ${FIRST_HOUR + HOURS_APART * i} * * ${MONDAY}`,
  }));
}

/** Whole weeks since 1970-01-01T00:00Z (a Thursday, so the week number turns on Thursdays). */
export function rotationWeek(at: Date): number {
  return Math.floor(Math.floor(at.getTime() / 1000) / WEEK_SECONDS);
}

export function rotationVersion(at: Date): Version {
  return ROTATION[rotationWeek(at) % ROTATION.length]!;
}

export interface PlanInput {
  /** When the dispatcher runs (the rotation week). */
  readonly at: Date;
  /** The cron that fired (a scheduled run); picks its one workflow. */
  readonly cron?: string | undefined;
  /** A manual run's choice: `all` (default), a workflow id or its file name. */
  readonly workflow?: string | undefined;
  /** A manual run's choice: `rotation` (default) or a major version. */
  readonly version?: string | undefined;
}

export interface Dispatch {
  readonly workflow: WorkflowId;
  readonly file: string;
  readonly version: Version;
}

export interface Skipped {
  readonly workflow: WorkflowId;
  readonly file: string;
  readonly reason: string;
}

export interface DispatchPlan {
  readonly week: number;
  readonly version: Version;
  readonly versionFrom: "rotation" | "input";
  readonly dispatch: readonly Dispatch[];
  /** Workflows that build nothing of this version (OCI on Kitten weeks). */
  readonly skipped: readonly Skipped[];
}

function workflowsFor(input: PlanInput): WorkflowId[] {
  const entries = scheduleEntries();
  const cron = input.cron?.trim().replace(/\s+/g, " ");
  if (cron) {
    const entry = entries.find((e) => e.cron === cron);
    if (!entry) {
      throw new UsageError(
        `cron "${printable(cron)}" is not in the schedule (valid: ${entries.map((e) => `"${e.cron}"`).join(", ")})`,
      );
    }
    return [entry.workflow];
  }
  const choice = input.workflow?.trim() || "all";
  if (choice === "all") return [...SCHEDULED_WORKFLOWS];
  const id = WORKFLOW_IDS.find((w) => w === choice || WORKFLOWS[w].file === choice);
  if (!id) {
    const valid = ["all", ...SCHEDULED_WORKFLOWS.flatMap((w) => [w, WORKFLOWS[w].file])];
    throw new UsageError(`unknown workflow "${printable(choice)}" (valid: ${valid.join(", ")})`);
  }
  return [id];
}

/** What one run of the dispatcher dispatches. */
export function planDispatches(input: PlanInput): DispatchPlan {
  if (Number.isNaN(input.at.getTime())) throw new UsageError("invalid time for the schedule");
  const workflows = workflowsFor(input);
  const week = rotationWeek(input.at);
  const chosen = input.version?.trim() || "rotation";
  let version: Version;
  if (chosen === "rotation") version = rotationVersion(input.at);
  else if (isVersion(chosen)) version = chosen;
  else {
    throw new UsageError(`unknown version "${printable(chosen)}" (valid: rotation, ${VERSIONS.join(", ")})`);
  }
  const dispatch: Dispatch[] = [];
  const skipped: Skipped[] = [];
  for (const workflow of workflows) {
    const { file, versions } = WORKFLOWS[workflow];
    if (versions.includes(version)) dispatch.push({ workflow, file, version });
    else skipped.push({ workflow, file, reason: `builds no ${version} images` });
  }
  return { week, version, versionFrom: chosen === "rotation" ? "rotation" : "input", dispatch, skipped };
}

/** The plan as the dispatcher's job summary (Markdown). */
export function renderPlanSummary(plan: DispatchPlan): string {
  const lines = [
    "## Scheduled image builds",
    "",
    plan.versionFrom === "rotation"
      ? `- **Version**: \`${plan.version}\` (rotation week ${plan.week})`
      : `- **Version**: \`${plan.version}\` (chosen by hand)`,
    ...plan.dispatch.map((d) => `- Dispatching: \`${d.file}\` (version \`${d.version}\`)`),
    ...plan.skipped.map((s) => `- Skipped: \`${s.file}\` (${s.reason})`),
  ];
  return `${lines.join("\n")}\n`;
}
