/**
 * The CLI around a set of commands: the program with its version and help, usage errors routed
 * through reportError (exit 2), interrupts, and the run. main.ts gives it every command (loaded lazily);
 * the single-command entries in entries/ give it one, so the hot offline commands load as one file.
 */
import { Command } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { timedAsync } from "../phases.js";
import { reportError } from "./action.js";
import { helpAsFlag } from "./help-args.js";
import { installInterrupts } from "./interrupts.js";

/** Adds the commands `argv` needs (or all of them) to the program. */
export type Registrar = (program: Command, argv: readonly string[]) => void | Promise<void>;

export async function buildProgram(argv: readonly string[], register: Registrar): Promise<Command> {
  const program = new Command("cloud-images")
    .description(
      "Build, verify, publish and report AlmaLinux OS cloud images.\n" +
        "One command per pipeline step; `cloud-images run` runs a whole build leg.",
    )
    .version(pkg.version)
    .enablePositionalOptions()
    .addHelpText(
      "after",
      "\nExit codes (every command): 0 success, 1 a check or step failed, 2 bad input (options, missing or\n" +
        "unreadable input files), 3 another run holds the lock (same leg or store key), 128+N ended by\n" +
        "signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP). Set CLOUD_IMAGES_DEBUG=1 to print stack traces.",
    );
  await timedAsync("load", async () => register(program, argv));
  // Usage errors from every subcommand go through reportError (exit 2) instead of process.exit(1),
  // printed in the tool's one-line style with where to find help.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      outputError: (message, write) =>
        write(`cloud-images: ${oneLine(message)} (see: ${commandPath(cmd)} --help)\n`),
    });
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** `cloud-images packages diff`: the command as typed, for the help hint. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " ");
}

/** Runs the command line of this process. */
export async function runCli(register: Registrar): Promise<void> {
  // `cloud-images … | head` must end quietly, not with an EPIPE stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  installInterrupts();
  try {
    const argv = helpAsFlag(process.argv);
    await (await buildProgram(argv, register)).parseAsync(argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}
