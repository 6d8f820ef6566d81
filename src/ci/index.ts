export * from "./github.js";
