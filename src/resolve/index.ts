export * from "./mask.js";
export * from "./resolve.js";
export * from "./stamp.js";
