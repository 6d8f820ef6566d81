// Node's start and the loading of the CLI's own modules, up to here (the first module evaluated)
import "./started.js";
import { registerCommands } from "./commands/index.js";
import { runCli } from "./program.js";

await runCli(registerCommands);
