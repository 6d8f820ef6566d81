export * from "./ext4/index.js";
export { FatFilesystem, openFat } from "./fat/index.js";
export * from "./mounts.js";
export * from "./path.js";
export * from "./probe.js";
export type * from "./types.js";
export * from "./xattr.js";
export * from "./xfs/index.js";
