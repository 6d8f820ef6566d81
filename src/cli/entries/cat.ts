// `cloud-images cat` as one file (see scripts/build.mjs and bin/cloud-images.js)
import "../started.js";
import { register } from "../commands/cat.js";
import { runCli } from "../program.js";

void runCli((program) => register(program));
