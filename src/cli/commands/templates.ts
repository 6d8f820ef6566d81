import type { Command } from "commander";
import type { Leg } from "../../catalog/catalog.js";
import { requireLeg } from "../../catalog/validate.js";
import { UsageError } from "../../errors.js";
import { checkTemplates, type TemplatesReport } from "../../workflows/templates.js";
import { action, printJson, printLines, table } from "../util.js";

function parseLeg(spec: string): Leg {
  const parts = spec.split(":");
  if (parts.length !== 3) {
    throw new UsageError(`invalid leg "${spec}" (valid: TYPE:VARIANT:ARCH, for example gencloud:9:x86_64)`);
  }
  const [type, variant, arch] = parts as [string, string, string];
  return requireLeg(type, variant, arch);
}

function legName(leg: Leg): string {
  return `${leg.type}:${leg.variant}:${leg.arch}`;
}

function toJson(report: TemplatesReport) {
  return {
    ...report,
    legs: report.legs.map((s) => ({
      leg: legName(s.leg),
      ...s.leg,
      packerSource: s.packerSource,
      state: s.state,
      file: s.file ?? null,
      output: s.output ?? null,
      problems: s.problems ?? [],
    })),
  };
}

function printReport(report: TemplatesReport): void {
  const rows = [["LEG", "PACKER SOURCE", "STATE", "FILE"]];
  for (const s of report.legs) rows.push([legName(s.leg), s.packerSource, s.state, s.file ?? "-"]);
  const lines = table(rows);
  const mismatched = report.legs.filter((s) => s.problems);
  if (mismatched.length > 0) {
    lines.push("", "images the templates would write where the leg does not look for them:");
    for (const s of mismatched) lines.push(...s.problems!.map((p) => `  ${legName(s.leg)}: ${p}`));
  }
  if (report.orphans.length > 0) {
    lines.push("", `orphan sources (no catalog leg builds them): ${report.orphans.length}`);
    lines.push(...report.orphans.map((o) => `  ${o}`));
  }
  if (report.undefinedReferences.length > 0) {
    lines.push("", "build blocks name sources no template defines:");
    lines.push(...report.undefinedReferences.map((o) => `  ${o}`));
  }
  printLines(lines);
}

export function register(program: Command): void {
  const templates = program
    .command("templates")
    .description("the Packer templates the legs are built from")
    .addHelpText("after", "\nExample:\n  cloud-images templates check --dir ../cloud-images");

  templates
    .command("check")
    .description(
      "check that every catalog leg's Packer source is defined and listed in a build block, and that\n" +
        "the image it writes (output_directory, vm_name, format) is the one the leg's output mask finds\n" +
        "(exit 1 when one is not; exit 2 when a template does not parse)",
    )
    .requiredOption("--dir <dir>", "directory holding the *.pkr.hcl templates")
    .option("--leg <type:variant:arch>", "check only this leg, e.g. gencloud:9:x86_64")
    .option(
      "--json",
      'print {"ok":…,"legs":[{"leg":…,"packerSource":…,"state":"ok|not-built|missing|mismatch",\n' +
        '"output":{"path":…,"format":…,"open":[…]},"problems":[…]}],"orphans":[…]}',
    )
    .addHelpText(
      "after",
      "\nExamples:\n  cloud-images templates check --dir ../cloud-images\n" +
        "  cloud-images templates check --dir templates --leg azure:9-64k:aarch64 --json",
    )
    .action(
      action(async (opts: { dir: string; leg?: string; json?: boolean }) => {
        const legs = opts.leg === undefined ? undefined : [parseLeg(opts.leg)];
        const report = await checkTemplates(opts.dir, legs);
        if (opts.json) printJson(toJson(report));
        else printReport(report);
        return report.ok ? 0 : 1;
      }),
    );
}
