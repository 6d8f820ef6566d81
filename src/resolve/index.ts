export * from "./mask.js";
export * from "./release-package.js";
export * from "./resolve.js";
export * from "./stamp.js";
