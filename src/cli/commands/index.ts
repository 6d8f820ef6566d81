import type { Command } from "commander";
import { register as matrix } from "./matrix.js";
import { register as release } from "./release.js";
import { register as resolve } from "./resolve.js";
import { register as stamp } from "./stamp.js";

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  for (const register of [matrix, resolve, release, stamp]) register(program);
}
