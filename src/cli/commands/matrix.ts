import type { Command } from "commander";
import { buildMatrix } from "../../catalog/matrix.js";
import { requireWorkflow, requireWorkflowVersion } from "../../catalog/validate.js";
import { appendGithubOutputs } from "../../ci/github.js";
import { action, printJson, printLines, table } from "../util.js";

export function register(program: Command): void {
  program
    .command("matrix")
    .description("the legs one workflow run fans out to, per arch")
    .requiredOption("--workflow <id>", "azure, gencloud, oci or opennebula")
    .requiredOption("--version <V>", "major version: 10-kitten, 10, 9 or 8")
    .option("--no-self-hosted", "no self-hosted (aarch64) runner: empty aarch64 list")
    .option("--json", 'print {"x86_64":[{"type":…,"variant":…}],"aarch64":[…]}')
    .option("--github", "also append x86_64=<json> and aarch64=<json> to $GITHUB_OUTPUT")
    .addHelpText("after", "\nExample:\n  cloud-images matrix --workflow gencloud --version 10 --json")
    .action(
      action(
        (opts: {
          workflow: string;
          version: string;
          selfHosted: boolean;
          json?: boolean;
          github?: boolean;
        }) => {
          const workflow = requireWorkflow(opts.workflow);
          const version = requireWorkflowVersion(workflow, opts.version);
          const matrix = buildMatrix(workflow, version, opts.selfHosted);
          if (opts.github) {
            appendGithubOutputs({
              x86_64: JSON.stringify(matrix.x86_64),
              aarch64: JSON.stringify(matrix.aarch64),
            });
          }
          if (opts.json) {
            printJson(matrix);
          } else {
            const rows = [["ARCH", "TYPE", "VARIANT"]];
            for (const [arch, legs] of Object.entries(matrix)) {
              for (const leg of legs) rows.push([arch, leg.type, leg.variant]);
            }
            printLines(rows.length > 1 ? table(rows) : ["no legs"]);
          }
          return 0;
        },
      ),
    );
}
