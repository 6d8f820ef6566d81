/** `$name` and `${name}` substitution, as dnf (repository files) and GRUB (boot entries) do it. */

/** Replaces variables from `vars`; unknown ones stay as written (`keep`, dnf) or vanish (`empty`, GRUB). */
export function expandVars(
  text: string,
  vars: ReadonlyMap<string, string>,
  unknown: "keep" | "empty",
): string {
  return text.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (all, a?: string, b?: string) => {
    return vars.get((a ?? b)!) ?? (unknown === "keep" ? all : "");
  });
}
