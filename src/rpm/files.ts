/**
 * The file list of an installed package's header, as `rpm -V` reads it: paths (DIRNAMES + BASENAMES by
 * DIRINDEXES), sizes, modes, digests (in FILEDIGESTALGO), symlink targets, file flags (%config, %ghost,
 * ...), verify flags (%verify(not ...)) and install states (files rpm did not install).
 */
import { RpmFormatError } from "../errors.js";
import type { RpmHeader } from "./header.js";

/** rpm's tag numbers for the file list (include/rpm/rpmtag.h). */
export const fileTags = {
  FILESIZES: 1028,
  FILESTATES: 1029,
  FILEMODES: 1030,
  FILEDIGESTS: 1035,
  FILELINKTOS: 1036,
  FILEFLAGS: 1037,
  FILEVERIFYFLAGS: 1045,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGFILESIZES: 5008,
  FILEDIGESTALGO: 5011,
} as const;

/** RPMFILE_* attributes. */
export const FileFlag = {
  CONFIG: 1 << 0,
  DOC: 1 << 1,
  MISSINGOK: 1 << 3,
  NOREPLACE: 1 << 4,
  GHOST: 1 << 6,
  LICENSE: 1 << 7,
  README: 1 << 8,
  ARTIFACT: 1 << 12,
} as const;

/** RPMFILE_STATE_*: whether rpm installed the file. */
export const FileState = {
  NORMAL: 0,
  REPLACED: 1,
  NOT_INSTALLED: 2,
  NET_SHARED: 3,
  WRONG_COLOR: 4,
  MISSING: -1,
} as const;

/** RPMVERIFY_*: what `rpm -V` compares (cleared by %verify(not ...)). */
export const VerifyFlag = {
  DIGEST: 1 << 0,
  SIZE: 1 << 1,
  LINKTO: 1 << 2,
  USER: 1 << 3,
  GROUP: 1 << 4,
  MTIME: 1 << 5,
  MODE: 1 << 6,
  RDEV: 1 << 7,
} as const;

/** PGPHASHALGO_* values rpm uses for FILEDIGESTALGO, as node:crypto names them (MD5 when absent). */
export const FILE_DIGEST_ALGOS: Readonly<Record<number, string>> = {
  1: "md5",
  2: "sha1",
  8: "sha256",
  9: "sha384",
  10: "sha512",
  11: "sha224",
};

export type RpmFileType = "file" | "dir" | "symlink" | "other";

export interface RpmFileEntry {
  readonly path: string;
  readonly type: RpmFileType;
  readonly mode: number;
  readonly size: number;
  /** Lowercase hex; empty for anything but regular files. */
  readonly digest: string;
  /** Symlink target; empty otherwise. */
  readonly linkTo: string;
  readonly flags: number;
  readonly verifyFlags: number;
  /** FileState; NORMAL when the header has no states (a package file, not an installed header). */
  readonly state: number;
}

export interface PackageFileList {
  /** node:crypto's name of the digest algorithm. */
  readonly digestAlgo: string;
  readonly files: readonly RpmFileEntry[];
}

function typeOf(mode: number): RpmFileType {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}

/** The file list of a header; a package without files gives an empty list. */
export function packageFileList(h: RpmHeader, what = "rpm header"): PackageFileList {
  const algoNumber = h.number(fileTags.FILEDIGESTALGO) ?? 1;
  const digestAlgo = FILE_DIGEST_ALGOS[algoNumber];
  if (!digestAlgo) throw new RpmFormatError(`${what}: unknown file digest algorithm ${algoNumber}`);
  const basenames = h.strings(fileTags.BASENAMES) ?? [];
  if (basenames.length === 0) return { digestAlgo, files: [] };
  const n = basenames.length;
  const dirnames = h.strings(fileTags.DIRNAMES) ?? [];
  const dirindexes = h.numbers(fileTags.DIRINDEXES) ?? [];
  const sizes = h.numbers(fileTags.LONGFILESIZES) ?? h.numbers(fileTags.FILESIZES) ?? [];
  const modes = h.numbers(fileTags.FILEMODES) ?? [];
  const digests = h.strings(fileTags.FILEDIGESTS) ?? [];
  const links = h.strings(fileTags.FILELINKTOS) ?? [];
  const flags = h.numbers(fileTags.FILEFLAGS) ?? [];
  const verify = h.numbers(fileTags.FILEVERIFYFLAGS);
  const states = h.numbers(fileTags.FILESTATES);
  for (const [name, list] of [
    ["DIRINDEXES", dirindexes],
    ["FILESIZES", sizes],
    ["FILEMODES", modes],
    ["FILEDIGESTS", digests],
    ["FILELINKTOS", links],
    ["FILEFLAGS", flags],
  ] as const) {
    if (list.length !== n)
      throw new RpmFormatError(`${what}: ${name} has ${list.length} entries for ${n} files`);
  }
  const files: RpmFileEntry[] = [];
  for (let i = 0; i < n; i++) {
    const dir = dirnames[dirindexes[i]!];
    if (dir === undefined) throw new RpmFormatError(`${what}: DIRINDEXES[${i}] points past DIRNAMES`);
    const mode = modes[i]!;
    const state = states?.[i];
    files.push({
      path: `${dir}${basenames[i]}`,
      type: typeOf(mode),
      mode,
      size: sizes[i]!,
      digest: digests[i]!.toLowerCase(),
      linkTo: links[i]!,
      flags: flags[i]!,
      // rpm's default when the tag is absent: verify everything
      verifyFlags: verify?.[i] ?? 0xffffffff,
      // CHAR values: 255 is the -1 of RPMFILE_STATE_MISSING
      state: state === undefined ? FileState.NORMAL : state === 255 ? FileState.MISSING : state,
    });
  }
  return { digestAlgo, files };
}
