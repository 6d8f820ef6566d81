/** Packer command lines for a leg. */
import type { ResolvedLeg } from "../resolve/resolve.js";

/** `output-NAME`, the directory Packer writes the leg's image into (the mask's first component). */
export function outputDirOf(resolved: Pick<ResolvedLeg, "outputMask">): string {
  return resolved.outputMask.split("/")[0]!;
}

export function packerBuildArgs(resolved: ResolvedLeg, vars: Readonly<Record<string, string>>): string[] {
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
  return ["build", "-color=false", ...varArgs, `-only=${resolved.packerSource}`, "."];
}

/** Quotes an argument for display so the printed command can be pasted into a shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
