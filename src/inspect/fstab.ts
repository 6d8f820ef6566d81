/**
 * /etc/fstab as mount(8) and systemd-fstab-generator read it: six whitespace-separated fields, `#`
 * comments, octal escapes (`\040` for a space), and the device given as UUID=, LABEL=, PARTUUID=,
 * PARTLABEL= or a /dev/disk/by-* path.
 */

export type FstabSourceKind = "uuid" | "label" | "partuuid" | "partlabel" | "device" | "other";

export interface FstabEntry {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The first field as written (after unescaping). */
  readonly spec: string;
  /** What the first field names, and the value it names it by. */
  readonly source: { readonly kind: FstabSourceKind; readonly value: string };
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: readonly string[];
  readonly freq: number;
  readonly passno: number;
}

export interface Fstab {
  readonly entries: readonly FstabEntry[];
  /** Lines that are not comments and do not have the three fields a mount needs. */
  readonly malformed: readonly { readonly line: number; readonly text: string }[];
}

const TAGS: Record<string, FstabSourceKind> = {
  UUID: "uuid",
  LABEL: "label",
  PARTUUID: "partuuid",
  PARTLABEL: "partlabel",
};

const BY_DIRS: Record<string, FstabSourceKind> = {
  "by-uuid": "uuid",
  "by-label": "label",
  "by-partuuid": "partuuid",
  "by-partlabel": "partlabel",
};

/** `\040` → space, as getmntent(3) does for the octal escapes of space, tab, newline and backslash. */
export function unescapeFstab(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** udev's escaping in /dev/disk/by-label names: `\x20` for a space. */
function unescapeUdev(name: string): string {
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function fstabSource(spec: string): FstabEntry["source"] {
  const tag = /^([A-Z]+)=(.*)$/.exec(spec);
  if (tag && TAGS[tag[1]!] !== undefined) {
    // libblkid accepts the value in double quotes too
    return { kind: TAGS[tag[1]!]!, value: tag[2]!.replace(/^"(.*)"$/, "$1") };
  }
  const by = /^\/dev\/disk\/(by-[a-z]+)\/(.+)$/.exec(spec);
  if (by && BY_DIRS[by[1]!] !== undefined) return { kind: BY_DIRS[by[1]!]!, value: unescapeUdev(by[2]!) };
  if (spec.startsWith("/dev/")) return { kind: "device", value: spec };
  return { kind: "other", value: spec };
}

export function parseFstab(text: string): Fstab {
  const entries: FstabEntry[] = [];
  const malformed: { line: number; text: string }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/).map(unescapeFstab);
    if (fields.length < 3) {
      malformed.push({ line: i + 1, text: line });
      return;
    }
    const [spec, mountPoint, fsType, options = "defaults", freq = "0", passno = "0"] = fields as [
      string,
      string,
      string,
      ...string[],
    ];
    entries.push({
      line: i + 1,
      spec,
      source: fstabSource(spec),
      mountPoint,
      fsType,
      options: options.split(","),
      freq: Number.parseInt(freq, 10) || 0,
      passno: Number.parseInt(passno, 10) || 0,
    });
  });
  return { entries, malformed };
}
