export { action } from "./action.js";
export { formatBytes, printJson, printLines, safeLine, table, warn } from "./output.js";
export { wholeNumber } from "./whole-number.js";
