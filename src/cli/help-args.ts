/**
 * `help A B` as `A B --help`: Commander's help command takes one name, so `help packages diff` would
 * show the help of `packages`.
 */
export function helpAsFlag(argv: readonly string[]): string[] {
  const [node = "", script = "", first, ...rest] = argv;
  if (first !== "help" || rest.length === 0 || rest.some((a) => a.startsWith("-"))) return [...argv];
  return [node, script, ...rest, "--help"];
}
