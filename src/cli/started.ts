/** Imported first by every CLI entry: marks the end of Node's start and of loading the CLI's modules. */
import { addPhase, msSinceStart } from "../phases.js";

addPhase("start", msSinceStart());
