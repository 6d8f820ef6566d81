/** RPM: the header codec, package files, reading a package header over HTTP, and the rpmdb readers. */
export * from "./digest.js";
export * from "./header.js";
export * from "./package.js";
export * from "./pgp.js";
export * from "./remote.js";
export * from "./rpmdb/index.js";
export * from "./rpmfile.js";
