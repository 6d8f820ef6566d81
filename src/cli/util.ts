export { action } from "./action.js";
export { formatBytes, printJson, printLines, table, warn } from "./output.js";
