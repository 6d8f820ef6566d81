// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
/**
 * `scheduled-builds.yml`: the only workflow with a schedule. Each weekly cron (one per build workflow)
 * becomes a real `workflow_dispatch` of that workflow with this week's `version_major`, so the build
 * workflows need no schedule handling; the CLI's `schedule` command works out what to dispatch.
 */
import { VERSIONS, WORKFLOWS } from "../catalog/catalog.js";
import { SCHEDULED_WORKFLOWS, scheduleEntries } from "./schedule.js";
import { installToolSteps, TOOL_CLI } from "./tool-steps.js";

type Obj = Record<string, unknown>;

export const SCHEDULED_WORKFLOW_FILE = "scheduled-builds.yml";

/** Repository variable that turns the timer on; without it only manual runs dispatch anything. */
export const SCHEDULE_SWITCH = "SCHEDULED_BUILDS";

function dispatchInputs(): Obj {
  return {
    target_workflow: {
      description: "Build workflow to dispatch",
      required: true,
      type: "choice",
      options: ["all", ...SCHEDULED_WORKFLOWS.map((w) => WORKFLOWS[w].file)],
      default: "all",
    },
    version_major: {
      description: "AlmaLinux major version (rotation: what this week's scheduled runs build)",
      required: true,
      type: "choice",
      options: ["rotation", ...VERSIONS],
      default: "rotation",
    },
  };
}

export function buildScheduledWorkflow(): Obj {
  const entries = scheduleEntries();
  return {
    name: "Scheduled: dispatch image builds",
    "run-name":
      "Scheduled image builds${{ github.event_name == 'workflow_dispatch' && " +
      "format(' ({0}, {1})', inputs.target_workflow, inputs.version_major) || '' }}",
    on: {
      schedule: entries.map((e) => ({ cron: e.cron })),
      workflow_dispatch: { inputs: dispatchInputs() },
    },
    permissions: {},
    defaults: { run: { shell: "bash" } },
    jobs: {
      dispatch: {
        name: "Dispatch the build workflows",
        // Timer firings only where the repository opted in (forks and copies build nothing on their own).
        if: `\${{ github.event_name != 'schedule' || vars.${SCHEDULE_SWITCH} == 'true' }}`,
        "runs-on": "ubuntu-24.04",
        permissions: { actions: "write", contents: "read" },
        steps: [
          ...installToolSteps(),
          {
            name: "Dispatch",
            env: {
              GH_TOKEN: "${{ github.token }}",
              CRON: "${{ github.event.schedule }}",
              TARGET: "${{ inputs.target_workflow }}",
              VERSION: "${{ inputs.version_major }}",
            },
            run:
              `${TOOL_CLI} schedule --cron "$CRON" --workflow "$TARGET" --version "$VERSION" --github > dispatches\n` +
              "while read -r file version; do\n" +
              '  gh workflow run "$file" -f version_major="$version" --ref "$GITHUB_REF_NAME" --repo "$GITHUB_REPOSITORY"\n' +
              "done < dispatches\n",
          },
        ],
      },
    },
  };
}
