import type { Command } from "commander";
import { register as cat } from "./cat.js";
import { register as inspect } from "./inspect.js";
import { register as ls } from "./ls.js";
import { register as matrix } from "./matrix.js";
import { register as packages } from "./packages.js";
import { register as publish } from "./publish.js";
import { register as release } from "./release.js";
import { register as report } from "./report.js";
import { register as resolve } from "./resolve.js";
import { register as sbom } from "./sbom.js";
import { register as stamp } from "./stamp.js";
import { register as templates } from "./templates.js";
import { register as verify } from "./verify.js";
import { register as workflows } from "./workflows.js";

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  for (const register of [
    matrix,
    resolve,
    release,
    stamp,
    templates,
    workflows,
    publish,
    report,
    inspect,
    ls,
    cat,
    verify,
    packages,
    sbom,
  ])
    register(program);
}
