/** What every read-only filesystem reader (XFS, ext4) offers; path lookup is built on top of it. */

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
  /** The name as stored, decoded as UTF-8. */
  readonly name: string;
  readonly ino: number;
}

export interface Filesystem {
  readonly type: "xfs" | "ext4";
  readonly label: string;
  readonly uuid: string;
  readonly blockSize: number;
  readonly rootIno: number;
  stat(ino: number): Promise<InodeStat>;
  /** Entries of a directory, without `.` and `..`, in on-disk order. */
  readDir(ino: number): Promise<DirEntry[]>;
  /** Target of a symbolic link, as stored. */
  readLink(ino: number): Promise<string>;
  /** Bytes [offset, offset + length) of a regular file, clipped to its size; holes read as zeros. */
  read(ino: number, offset: number, length: number): Promise<Buffer>;
}
