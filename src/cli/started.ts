/** Imported first by every CLI entry: marks the end of Node's start and of loading the CLI's modules. */
import { addPhase } from "../phases.js";

addPhase("start", performance.now());
