import type { Command } from "commander";

type Loader = () => Promise<{ register(program: Command): void }>;

/**
 * Every command, in the order `--help` lists them. Each module is imported only when its command
 * is the one being run (or for the full help), so a command does not pay for the others' libraries.
 */
export const COMMANDS: ReadonlyArray<readonly [name: string, load: Loader]> = [
  ["run", () => import("./run.js")],
  ["matrix", () => import("./matrix.js")],
  ["resolve", () => import("./resolve.js")],
  ["release", () => import("./release.js")],
  ["verify-release", () => import("./verify-release.js")],
  ["point-release", () => import("./point-release.js")],
  ["stamp", () => import("./stamp.js")],
  ["templates", () => import("./templates.js")],
  ["workflows", () => import("./workflows.js")],
  ["schedule", () => import("./schedule.js")],
  ["publish", () => import("./publish.js")],
  ["report", () => import("./report.js")],
  ["inspect", () => import("./inspect.js")],
  ["ls", () => import("./ls.js")],
  ["cat", () => import("./cat.js")],
  ["verify", () => import("./verify.js")],
  ["boot-test", () => import("./boot-test.js")],
  ["packages", () => import("./packages.js")],
  ["sbom", () => import("./sbom.js")],
];

/** Registers the command named in `argv` (the first argument that is not an option), or all of them. */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const args = argv.slice(2);
  const name = args.find((a) => !a.startsWith("-"));
  if (name === undefined && (args.includes("-V") || args.includes("--version"))) return;
  const chosen = COMMANDS.filter(([n]) => n === name);
  for (const [, load] of chosen.length > 0 ? chosen : COMMANDS) (await load()).register(program);
}
