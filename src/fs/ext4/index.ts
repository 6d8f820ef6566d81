/** Read-only ext2/ext3/ext4. */
export { Ext4Filesystem, openExt4 } from "./ext4.js";
export { isExt4 } from "./superblock.js";
