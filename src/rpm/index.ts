/** RPM: the header codec, package files, the release lookup and the rpmdb readers. */
export * from "./digest.js";
export * from "./header.js";
export * from "./package.js";
export * from "./pgp.js";
export * from "./release.js";
export * from "./rpmdb/index.js";
export * from "./rpmfile.js";
