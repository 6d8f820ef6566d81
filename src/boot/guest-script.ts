/**
 * What the boot test asks the running guest, as one POSIX shell script per stage (one SSH connection
 * each), and the parser of its output. Each section prints a begin marker, the command's output and an
 * end marker with the command's exit status, so one script answers every question even when some
 * commands fail.
 */

export const SECTION_BEGIN = "@@cloud-images-begin";
export const SECTION_STDERR = "@@cloud-images-stderr";
export const SECTION_END = "@@cloud-images-end";

export interface Section {
  /** What the command wrote to standard output. */
  readonly output: string;
  /** What it wrote to standard error (sudo's and the tools' complaints), kept apart. */
  readonly stderr: string;
  /** The command's exit status. */
  readonly status: number;
}

export type Sections = Readonly<Record<string, Section>>;

/** Package names are rpm names: nothing a shell would interpret. */
const SAFE_WORD = /^[A-Za-z0-9._+-]+$/;

function requireSafe(words: readonly string[]): void {
  for (const w of words) if (!SAFE_WORD.test(w)) throw new Error(`guest script: unsafe word "${w}"`);
}

const PRELUDE = [
  "export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  // root through sudo where the check needs it (systemctl without D-Bus access), else as the user
  'asroot() { if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo -n "$@"; else "$@"; fi; }',
  "_err=$(mktemp) || exit 1",
  `section() { _sec=$1; shift; echo "${SECTION_BEGIN} $_sec"; "$@" </dev/null 2>"$_err"; _rc=$?; echo; ` +
    `if [ -s "$_err" ]; then echo "${SECTION_STDERR}"; cat "$_err"; echo; fi; echo "${SECTION_END} $_sec $_rc"; }`,
];

/** Machine-id, host keys (mtime and public key) and when this boot started, in seconds since the epoch. */
const IDENTITY = [
  "identity() {",
  '  echo "machine-id $(cat /etc/machine-id 2>/dev/null)"',
  '  echo "boot-time $(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))"',
  '  for f in /etc/ssh/ssh_host_*_key.pub; do [ -f "$f" ] && echo "host-key $(stat -c %Y "$f") $(cat "$f")"; done',
  "  true",
  "}",
];

/** The root filesystem's partition against its disk, from sysfs, in bytes. */
const GROWPART = [
  "growpart_facts() {",
  "  _src=$(findmnt -no SOURCE /) || return 1",
  '  _part=/sys/class/block/$(basename "$(readlink -f "$_src")")',
  '  echo "source $_src"',
  '  [ -e "$_part/partition" ] || { echo "not-a-partition 1"; return 0; }',
  '  _disk=$(basename "$(readlink -f "$_part/..")")',
  '  echo "disk-bytes $(( $(cat /sys/class/block/$_disk/size) * 512 ))"',
  '  echo "part-start $(( $(cat $_part/start) * 512 ))"',
  '  echo "part-bytes $(( $(cat $_part/size) * 512 ))"',
  "  echo \"fs-bytes $(stat -f -c '%S %b' / | awk '{ printf \"%.0f\", $1 * $2 }')\"",
  "}",
];

export interface StageOneOptions {
  readonly releasePackage: string;
  readonly requiredPackages: readonly string[];
}

/** At the first login: facts that do not depend on cloud-init having finished. */
export function stageOneScript(options: StageOneOptions): string {
  requireSafe([options.releasePackage, ...options.requiredPackages]);
  const required = options.requiredPackages.length > 0 ? options.requiredPackages.join(" ") : "";
  return [
    ...PRELUDE,
    ...IDENTITY,
    "section identity identity",
    "section release cat /etc/almalinux-release",
    `section release-arch rpm -q --qf '%{ARCH}\\n' ${options.releasePackage}`,
    ...(required ? [`section required-packages rpm -q ${required}`] : []),
    "section packages sh -c \"rpm -qa --qf '%{NAME}\\\\n' | LC_ALL=C sort\"",
    "section root-filesystem findmnt -no FSTYPE /",
    "section selinux getenforce",
    'rm -f "$_err"',
    "",
  ].join("\n");
}

/** After cloud-init has finished (the script waits for it): cloud-init, units, growpart. */
export function stageTwoScript(waitSeconds: number): string {
  const wait = Math.max(1, Math.round(waitSeconds));
  return [
    ...PRELUDE,
    ...GROWPART,
    // --wait returns when cloud-init is done, failed or disabled (one Python start: slow under TCG)
    `section cloud-init timeout ${wait} cloud-init status --wait --long --format json`,
    `section units asroot timeout ${wait} systemctl is-system-running --wait`,
    "section failed-units asroot systemctl list-units --state=failed --no-legend --plain --no-pager",
    "section growpart growpart_facts",
    'rm -f "$_err"',
    "",
  ].join("\n");
}

/** Only the identity (the later boots of --boots N). */
export function identityScript(): string {
  return [...PRELUDE, ...IDENTITY, "section identity identity", 'rm -f "$_err"', ""].join("\n");
}

/** The sections in a script's output; a section cut off (no end marker) is left out. */
export function parseSections(stdout: string): Sections {
  const sections: Record<string, Section> = {};
  let current: { name: string; out: string[]; err: string[] | null } | null = null;
  // the script ends each part with an empty line so that output without a final newline ends cleanly
  const text = (lines: string[]) => (lines[lines.length - 1] === "" ? lines.slice(0, -1) : lines).join("\n");
  for (const line of stdout.split("\n")) {
    if (line.startsWith(`${SECTION_BEGIN} `)) {
      current = { name: line.slice(SECTION_BEGIN.length + 1).trim(), out: [], err: null };
      continue;
    }
    if (!current) continue;
    if (line === SECTION_STDERR && current.err === null) {
      current.err = [];
      continue;
    }
    if (line.startsWith(`${SECTION_END} `)) {
      const [name, status] = line
        .slice(SECTION_END.length + 1)
        .trim()
        .split(" ");
      if (name === current.name) {
        sections[name] = {
          output: text(current.out),
          stderr: text(current.err ?? []),
          status: Number(status),
        };
      }
      current = null;
      continue;
    }
    (current.err ?? current.out).push(line);
  }
  return sections;
}

/** `key value` lines (identity, growpart) as pairs, in order. */
export function keyValues(output: string): [string, string][] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const at = l.indexOf(" ");
      return at < 0 ? ([l, ""] as [string, string]) : ([l.slice(0, at), l.slice(at + 1)] as [string, string]);
    });
}
