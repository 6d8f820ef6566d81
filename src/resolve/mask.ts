/**
 * Output masks such as `output-NAME/AlmaLinux-9-*.x86_64.qcow2`: `*` and `?` within one path
 * component, no `**`, no brace expansion (the resolver's masks never use them). As in the shell, a
 * name starting with a dot matches only a pattern starting with one.
 */

/** A test of names against one component of a mask. */
export function maskComponentMatcher(pattern: string): (name: string) => boolean {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  const regex = new RegExp(`^${re}$`);
  const dotted = pattern.startsWith(".");
  return (name) => (dotted || !name.startsWith(".")) && regex.test(name);
}

type GlobToken = { kind: "star" } | { kind: "one" } | { kind: "char"; ch: string };

function globTokens(pattern: string): GlobToken[] {
  return [...pattern].map((ch) =>
    ch === "*" ? { kind: "star" } : ch === "?" ? { kind: "one" } : { kind: "char", ch },
  );
}

/** Whether some name matches both a mask component and a pattern (a product-automaton walk, memoised). */
function componentsOverlap(a: string, b: string): boolean {
  if (!a.startsWith(".") && b.startsWith(".")) return false; // hidden names need a dotted mask
  const x = globTokens(a);
  const y = globTokens(b);
  const memo = new Map<number, boolean>();
  const walk = (i: number, j: number): boolean => {
    if (i === x.length && j === y.length) return true;
    const key = i * (y.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const p = x[i];
    const q = y[j];
    let result = false;
    if (p?.kind === "star") {
      result = walk(i + 1, j) || (q !== undefined && q.kind !== "star" && walk(i, j + 1));
    }
    if (!result && q?.kind === "star") {
      result = walk(i, j + 1) || (p !== undefined && p.kind !== "star" && walk(i + 1, j));
    }
    if (!result && p !== undefined && q !== undefined && p.kind !== "star" && q.kind !== "star") {
      result =
        (p.kind === "one" || q.kind === "one" || p.ch === (q as { ch: string }).ch) && walk(i + 1, j + 1);
    }
    memo.set(key, result);
    return result;
  };
  return walk(0, 0);
}

/**
 * Whether some path matches both the mask and `pattern`, a path in the same glob syntax (`*` where a
 * part is not known). With no `*` or `?` in `pattern`, this is whether the mask matches that path.
 */
export function maskOverlaps(mask: string, pattern: string): boolean {
  const a = mask.split("/").filter((c) => c.length > 0);
  const b = pattern.split("/").filter((c) => c.length > 0);
  return a.length === b.length && a.every((p, i) => componentsOverlap(p, b[i]!));
}
