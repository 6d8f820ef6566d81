/** The library: every layer below the CLI. */
export * from "./catalog/index.js";
export * from "./ci/index.js";
export * from "./disk/index.js";
export * from "./errors.js";
export * from "./files.js";
export * from "./fs/index.js";
export * from "./inspect/index.js";
export * from "./manifest/index.js";
export * from "./notify/index.js";
export * from "./pipeline/index.js";
export * from "./process/index.js";
export * from "./publish/index.js";
export * from "./resolve/index.js";
export * from "./retry.js";
export * from "./rpm/index.js";
export { lockDir, stateDir } from "./state.js";
export * from "./text.js";
export * from "./workflows/index.js";
