/** What every read-only filesystem reader (XFS, ext4, FAT) offers; path lookup is built on top of it. */

export type FileType = "file" | "dir" | "symlink" | "fifo" | "socket" | "blockdev" | "chardev";

export interface InodeStat {
  readonly ino: number;
  readonly type: FileType;
  /** Permission bits plus setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly size: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the Unix epoch, rounded down (may be negative). */
  readonly mtime: number;
  readonly atime: number;
  /** Device number for block and character devices. */
  readonly rdev?: readonly [major: number, minor: number];
}

export interface DirEntry {
  /** The name as stored, decoded as UTF-8 (invalid sequences become U+FFFD: see rawName). */
  readonly name: string;
  readonly ino: number;
  /** The stored bytes, only when they are not valid UTF-8 (so `name` alone cannot tell them apart). */
  readonly rawName?: Buffer;
}

/** One extended attribute as Linux's listxattr/getxattr show it. */
export interface Xattr {
  /**
   * The full name with its namespace prefix: `user.`, `trusted.`, `security.`,
   * `system.posix_acl_access`, `system.posix_acl_default` (XFS ACLs also under their stored names,
   * `trusted.SGI_ACL_FILE` and `trusted.SGI_ACL_DEFAULT`, as Linux lists them). Internal attributes
   * that Linux does not list (ext4's `system.data`, encryption contexts, XFS parent pointers) are left out.
   */
  readonly name: string;
  /** The value; POSIX ACLs in the kernel's xattr form (as `getfattr -e hex` prints them). */
  readonly value: Buffer;
}

/** Whether a filesystem was cleanly unmounted, read from its superblock, journal or log. */
export interface CleanState {
  /** False when the kernel would have to replay a journal or log, or the filesystem recorded errors. */
  readonly clean: boolean;
  /** One line saying what was found, e.g. "log clean (unmount record at block 2, cycle 1)". */
  readonly detail: string;
}

export interface Filesystem {
  readonly type: "xfs" | "ext4" | "vfat";
  readonly label: string;
  readonly uuid: string;
  readonly blockSize: number;
  readonly rootIno: number;
  /** Names match without regard to case (FAT, as Linux's vfat matches them). */
  readonly caseInsensitive?: boolean;
  stat(ino: number): Promise<InodeStat>;
  /** Entries of a directory, without `.` and `..`, in on-disk order. */
  readDir(ino: number): Promise<DirEntry[]>;
  /** Target of a symbolic link, as stored. */
  readLink(ino: number): Promise<string>;
  /** Bytes [offset, offset + length) of a regular file, clipped to its size; holes read as zeros. */
  read(ino: number, offset: number, length: number): Promise<Buffer>;
  /**
   * The same bytes written into `target` at `at` (reused memory for large files read in pieces); returns
   * how many (clipped to the file's size). Optional: PathResolver.open falls back to read().
   */
  readInto?(ino: number, offset: number, length: number, target: Buffer, at: number): Promise<number>;
  /** Extended attributes of an inode, in on-disk order (read on demand only). */
  listXattrs(ino: number): Promise<readonly Xattr[]>;
  /** Whether the filesystem was cleanly unmounted (read on demand only: XFS reads its log). */
  cleanState(): Promise<CleanState>;
}
