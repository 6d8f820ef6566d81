export * from "./resolve.js";
export * from "./stamp.js";
