export * from "./build-workflow.js";
export * from "./diff.js";
export * from "./generate.js";
export * from "./layout.js";
export * from "./matrix-spec.js";
export * from "./pins.js";
export * from "./shared-action.js";
export * from "./templates.js";
