// `cloud-images ls` as one file (see scripts/build.mjs and bin/cloud-images.js)
import "../started.js";
import { register } from "../commands/ls.js";
import { runCli } from "../program.js";

void runCli((program) => register(program));
