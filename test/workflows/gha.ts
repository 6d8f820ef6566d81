// Reading the committed CI files and evaluating their expressions the way GitHub does, with GitHub's
// own expression engine (@actions/expressions, the dependency of @actions/workflow-parser).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { parse } from "yaml";
import { WORKFLOW_IDS, WORKFLOWS, type WorkflowId } from "../../src/catalog/catalog.js";
import { REPO_ROOT } from "../helpers/cli.js";

export type Obj = Record<string, unknown>;

export const WORKFLOW_PATHS: Record<WorkflowId, string> = Object.fromEntries(
  WORKFLOW_IDS.map((id) => [id, `.github/workflows/${WORKFLOWS[id].file}`]),
) as Record<WorkflowId, string>;
export const SCHEDULED_PATH = ".github/workflows/scheduled-builds.yml";
export const ACTION_PATH = ".github/actions/shared-steps/action.yml";
/** Every generated file, in the order `workflows generate` writes them. */
export const ALL_PATHS = [...Object.values(WORKFLOW_PATHS), SCHEDULED_PATH, ACTION_PATH];

export function committedText(path: string): string {
  return readFileSync(join(REPO_ROOT, path), "utf8");
}

export function committedYaml(path: string): Obj {
  return parse(committedText(path)) as Obj;
}

const CONTEXTS = [
  "inputs",
  "github",
  "vars",
  "secrets",
  "matrix",
  "needs",
  "steps",
  "env",
  "runner",
  "strategy",
];

/** Evaluates one expression (without `${{ }}`) against plain JSON contexts. */
export function evaluate(expression: string, context: Obj): unknown {
  const tokens = new Lexer(expression).lex().tokens;
  const ast = new Parser(tokens, CONTEXTS, []).parse();
  const dict = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  const result = new Evaluator(ast, dict).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer));
}

/** A YAML value as GitHub sees it: `${{ expr }}` filling the whole string is evaluated, other values kept. */
export function evaluateValue(value: unknown, context: Obj): unknown {
  if (typeof value !== "string") return value;
  const whole = /^\$\{\{(.*)\}\}$/s.exec(value.trim());
  if (whole && !whole[1]!.includes("}}")) return evaluate(whole[1]!, context);
  // Template strings: replace each ${{ }} with its string value.
  return value.replace(/\$\{\{(.*?)\}\}/gs, (_m, expr: string) => String(evaluate(expr, context) ?? ""));
}

/** A job or step `if:`, which may omit `${{ }}`. */
export function evaluateCondition(condition: unknown, context: Obj): boolean {
  if (condition === undefined) return true;
  if (typeof condition === "boolean") return condition;
  const text = String(condition).trim();
  const whole = /^\$\{\{(.*)\}\}$/s.exec(text);
  const result = evaluate(whole ? whole[1]! : text, context);
  return !(result === false || result === 0 || result === "" || result === null);
}

/** The combinations a `strategy.matrix` expands to (vectors, then `exclude`; no `include` used here). */
export function expandMatrix(matrix: Obj, context: Obj): Obj[] {
  const { exclude, include, ...vectors } = matrix;
  if (include !== undefined) throw new Error("include is not expected in the generated matrices");
  let combos: Obj[] = [{}];
  for (const [key, raw] of Object.entries(vectors)) {
    const values = evaluateValue(raw, context);
    if (!Array.isArray(values)) throw new Error(`matrix.${key} is not an array: ${JSON.stringify(values)}`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  const excluded = (Array.isArray(exclude) ? exclude : []) as Obj[];
  return combos.filter((c) => !excluded.some((e) => Object.entries(e).every(([k, v]) => c[k] === v)));
}

/** Every step of every job of a workflow, and of the composite action. */
export function allSteps(doc: Obj): Obj[] {
  if (doc.runs) return ((doc.runs as Obj).steps as Obj[]) ?? [];
  return Object.values(doc.jobs as Record<string, Obj>).flatMap((job) => (job.steps as Obj[]) ?? []);
}
