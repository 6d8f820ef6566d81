export * from "./manifest.js";
export * from "./read.js";
