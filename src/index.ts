/** The library: every layer below the CLI. */
export * from "./catalog/index.js";
export * from "./errors.js";
export * from "./resolve/index.js";
