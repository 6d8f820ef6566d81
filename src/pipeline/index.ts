export type { LegContext, LegState, ProgressEvent, RunLegOptions, Step, StepResult } from "./context.js";
export * from "./glob.js";
export * from "./host.js";
export * from "./job-env.js";
export * from "./release-lookup.js";
export { type LegRunResult, runLeg, STEPS } from "./runner.js";
