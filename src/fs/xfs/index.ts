/** Read-only XFS (v4 and v5): open a filesystem from a ByteSource and read it through `Filesystem`. */
export { openXfs, XfsFilesystem } from "./filesystem.js";
export type { XfsInode } from "./inode.js";
export { isXfs, type XfsSuperblock } from "./superblock.js";
