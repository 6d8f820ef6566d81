import type { Command } from "commander";
import { checkGeneratedFiles, writeGeneratedFiles } from "../../workflows/generate.js";
import { action, printJson, printLines } from "../util.js";

export function register(program: Command): void {
  const workflows = program
    .command("workflows")
    .description("the GitHub Actions workflows and shared action, generated from the catalog")
    .addHelpText(
      "after",
      "\nExamples:\n  cloud-images workflows generate\n  cloud-images workflows check --dir .",
    );

  workflows
    .command("generate")
    .description(
      "write .github/workflows/*-build.yml, scheduled-builds.yml and .github/actions/shared-steps/action.yml",
    )
    .option("--out <dir>", "repository root to write under", ".")
    .option("--json", "print the written paths as a JSON array")
    .addHelpText("after", "\nExample:\n  cloud-images workflows generate --out /tmp/ci")
    .action(
      action(async (opts: { out: string; json?: boolean }) => {
        const written = await writeGeneratedFiles(opts.out);
        if (opts.json) printJson(written);
        else printLines(written.map((p) => `wrote ${p}`));
        return 0;
      }),
    );

  workflows
    .command("check")
    .description("exit 1 with a unified diff when the committed files differ from what would be generated")
    .option("--dir <dir>", "repository root holding the committed files", ".")
    .option("--json", 'print {"ok":…,"files":[{"path":…,"status":"same|differs|missing","diff":…}]}')
    .addHelpText("after", "\nExample:\n  cloud-images workflows check")
    .action(
      action(async (opts: { dir: string; json?: boolean }) => {
        const files = await checkGeneratedFiles(opts.dir);
        const ok = files.every((f) => f.status === "same");
        if (opts.json) {
          printJson({ ok, files });
        } else {
          for (const f of files) if (f.diff) process.stdout.write(f.diff);
          const stale = files.filter((f) => f.status !== "same");
          process.stderr.write(
            ok
              ? `${files.length} generated files are up to date\n`
              : `${stale.map((f) => `${f.path} (${f.status})`).join(", ")}: ` +
                  "run `npx cloud-images workflows generate`\n",
          );
        }
        return ok ? 0 : 1;
      }),
    );
}
