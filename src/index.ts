/** The library: every layer below the CLI. */
export * from "./catalog/index.js";
export * from "./errors.js";
export * from "./notify/index.js";
export * from "./publish/index.js";
export * from "./resolve/index.js";
