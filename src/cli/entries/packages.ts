// `cloud-images packages` as one file (see scripts/build.mjs and bin/cloud-images.js)
import "../started.js";
import { register } from "../commands/packages.js";
import { runCli } from "../program.js";

void runCli((program) => register(program));
