export * from "./catalog.js";
export * from "./matrix.js";
export * from "./validate.js";
