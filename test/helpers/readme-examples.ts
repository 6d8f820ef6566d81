/**
 * The README's examples, as a user reads them: in fenced `sh` blocks, a line starting with `$ ` is a
 * command (continued by a trailing `\`), the lines after it until the next `$` line are its expected
 * standard output (`…` stands for text left out). A comment `# exits N` on the command line says the exit
 * code it ends with (0 otherwise). An HTML comment right before a block says how the block may be run:
 *
 *   <!-- example: uses s3, mattermost; why -->   it talks to those services: run it against stand-ins
 *   <!-- example: not run; why -->               it cannot run here at all
 */

/** Services an example may use, each replaced by a local stand-in when the examples run. */
export const STAND_INS = ["s3", "mattermost", "mirror", "github"] as const;
export type StandIn = (typeof STAND_INS)[number];

export interface ReadmeExample {
  /** 1-based line of the `$` line in the README. */
  readonly line: number;
  /** The heading the example is under. */
  readonly section: string;
  /** The command as bash reads it (continuation lines joined). */
  readonly command: string;
  /** Expected stdout lines, when the README shows any. */
  readonly output?: readonly string[] | undefined;
  readonly exitCode: number;
  readonly uses: readonly StandIn[];
  /** Why the example is not run, when it is not. */
  readonly notRun?: string | undefined;
}

const MARKER = /^<!--\s*example:\s*(.*?)\s*-->$/;
const FENCE_OPEN = /^```(sh|bash|console)\s*$/;

function parseMarker(text: string, line: number): { uses: StandIn[]; notRun?: string } {
  const [head = "", ...rest] = text.split(";");
  const why = rest.join(";").trim();
  if (why.length < 10) throw new Error(`README:${line}: an example marker needs a reason after ";"`);
  if (head.trim() === "not run") return { uses: [], notRun: why };
  const m = /^uses\s+(.+)$/.exec(head.trim());
  if (!m) throw new Error(`README:${line}: unknown example marker "${head.trim()}" (valid: uses …; not run)`);
  const uses = m[1]!.split(",").map((s) => s.trim());
  for (const u of uses) {
    if (!(STAND_INS as readonly string[]).includes(u)) {
      throw new Error(`README:${line}: unknown stand-in "${u}" (valid: ${STAND_INS.join(", ")})`);
    }
  }
  return { uses: uses as StandIn[] };
}

export function readmeExamples(readme: string): ReadmeExample[] {
  const lines = readme.split("\n");
  const examples: ReadmeExample[] = [];
  let section = "";
  let marker: { uses: StandIn[]; notRun?: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (/^#{2,4} /.test(text)) section = text.replace(/^#+ /, "");
    const m = MARKER.exec(text.trim());
    if (m) {
      marker = parseMarker(m[1]!, i + 1);
      continue;
    }
    if (!FENCE_OPEN.test(text)) {
      if (text.trim() !== "") marker = undefined;
      continue;
    }
    // A block: collect its `$` commands and what follows each.
    let current: { line: number; command: string; output: string[] } | undefined;
    const flush = () => {
      if (!current) return;
      while (current.output.length > 0 && current.output.at(-1)!.trim() === "") current.output.pop();
      const exit = /#[^\n]*\bexits? (\d+)\b/.exec(current.command);
      examples.push({
        line: current.line,
        section,
        command: current.command,
        output: current.output.length > 0 ? current.output : undefined,
        exitCode: exit ? Number(exit[1]) : 0,
        uses: marker?.uses ?? [],
        notRun: marker?.notRun,
      });
      current = undefined;
    };
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) {
      const l = lines[i]!;
      if (l.startsWith("$ ")) {
        flush();
        current = { line: i + 1, command: l.slice(2), output: [] };
        while (current.command.endsWith("\\") && i + 1 < lines.length) {
          current.command = `${current.command.slice(0, -1)} ${lines[++i]!.trim()}`;
        }
      } else if (current) {
        current.output.push(l);
      }
    }
    flush();
    marker = undefined;
  }
  return examples;
}

/** Does `actual` (stdout) show what the README shows, `…` matching any text (a line of its own: any lines)? */
export function matchesShown(shown: readonly string[], actual: string): boolean {
  const pattern = shown
    .map((line) =>
      line.trim() === "…"
        ? "[\\s\\S]*?"
        : line
            .trimEnd()
            .split("…")
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*?"),
    )
    .join("\n")
    .replace(/\n\[\\s\\S\]\*\?\n/g, "(?:\n[\\s\\S]*?)?\n");
  const text = actual
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/\n+$/, "");
  return new RegExp(`^${pattern}$`).test(text);
}
