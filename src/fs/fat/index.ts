/** Read-only FAT12/16/32 with long names (the EFI system partition). */
export { type FatGeometry, fatIdentity } from "./boot.js";
export { FatFilesystem, openFat } from "./filesystem.js";
