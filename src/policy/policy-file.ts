/**
 * Reading --policy and --waivers files (YAML, or JSON, which is YAML too): every problem becomes one
 * PolicyFileError naming the file, the line and what is valid there, before anything is written.
 */
import { readFile } from "node:fs/promises";
import { isMap, isNode, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { UsageError } from "../errors.js";
import { CHECK_SCHEMAS, policyFileSchema, waiverSchema, waiversFileSchema } from "./schema.js";
import { CHECK_NAMES, type CheckName, isCheckName, type PolicyDocument, type Waiver } from "./types.js";

/** A policy or waiver file that cannot be used (exit 2). */
export class PolicyFileError extends UsageError {}

type Path = readonly (string | number)[];

interface Parsed {
  readonly value: unknown;
  /** The line of the node at a path (or of its nearest ancestor), 1-based. */
  lineOf(path: Path, key?: string): number;
}

async function parseFile(file: string): Promise<Parsed> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new PolicyFileError(
      `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? 1;
    throw new PolicyFileError(`${file}:${line}: not valid YAML or JSON: ${err.message.split("\n")[0]}`);
  }
  const lineAt = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  return {
    value: doc.toJS(),
    lineOf(path, key) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (!isNode(node)) continue;
        if (key !== undefined && n === path.length && isMap(node)) {
          const pair = node.items.find(
            (p) => isNode(p.key) && String((p.key as { value?: unknown }).value) === key,
          );
          if (pair) return lineAt(pair.key as Node);
        }
        return lineAt(node);
      }
      return 1;
    },
  };
}

/** The fields an object schema at `path` accepts (for "valid: ..." hints). */
function fieldsAt(schema: z.ZodType, path: Path): string[] {
  let s: z.ZodType | undefined = schema;
  for (const p of [...path, null]) {
    for (;;) {
      const def = (s as unknown as { def?: { type: string } })?.def;
      if (def?.type === "optional") s = (s as unknown as z.ZodOptional).unwrap() as z.ZodType;
      else break;
    }
    if (p === null) break;
    const def = (s as unknown as { def?: { type: string } })?.def;
    if (def?.type === "array") s = (s as unknown as z.ZodArray).element as z.ZodType;
    else if (def?.type === "object") s = (s as unknown as z.ZodObject).shape[p as string] as z.ZodType;
    else return [];
  }
  const def = (s as unknown as { def?: { type: string } })?.def;
  return def?.type === "object" ? Object.keys((s as unknown as z.ZodObject).shape) : [];
}

function check<T>(
  file: string,
  parsed: Parsed,
  schema: z.ZodType<T>,
  value: unknown,
  at: Path,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [...at, ...(issue.path as (string | number)[])];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const valid = fieldsAt(schema, issue.path as Path);
    throw new PolicyFileError(
      `${file}:${parsed.lineOf(path, key)}: unknown field "${key}" in ${what} (valid: ${valid.join(", ")})`,
    );
  }
  const field = issue.path.length > 0 ? `${issue.path.join(".")} ` : "";
  throw new PolicyFileError(
    `${file}:${parsed.lineOf(path)}: ${what}: ${field}${issue.message.replace(/^Invalid input: /, "")}`,
  );
}

/** A --policy file: `policy: 1` and `checks:` keyed by check name, each in its check's format. */
export async function loadPolicyFile(file: string): Promise<PolicyDocument> {
  const parsed = await parseFile(file);
  const doc = check(
    file,
    parsed,
    policyFileSchema,
    parsed.value,
    [],
    "the policy (fields: policy: 1, description, checks)",
  );
  const checks: Partial<Record<CheckName, Record<string, unknown>>> = {};
  for (const [name, rule] of Object.entries(doc.checks)) {
    if (!isCheckName(name)) {
      throw new PolicyFileError(
        `${file}:${parsed.lineOf(["checks"], name)}: unknown check "${name}" (valid: ${CHECK_NAMES.join(", ")})`,
      );
    }
    checks[name] = check(
      file,
      parsed,
      CHECK_SCHEMAS[name],
      rule ?? {},
      ["checks", name],
      `check ${name}`,
    ) as Record<string, unknown>;
  }
  return { policy: 1, ...(doc.description !== undefined ? { description: doc.description } : {}), checks };
}

/** A --waivers file: `waivers:` a list of {check, path or package, reason, expires: YYYY-MM-DD}. */
export async function loadWaiversFile(file: string): Promise<Waiver[]> {
  const parsed = await parseFile(file);
  const doc = check(file, parsed, waiversFileSchema, parsed.value, [], "the waivers file (fields: waivers)");
  return doc.waivers.map((w, i) => {
    const v = check(file, parsed, waiverSchema, w, ["waivers", i], "waiver");
    if (v.path !== undefined && v.package !== undefined) {
      throw new PolicyFileError(
        `${file}:${parsed.lineOf(["waivers", i])}: waiver: give a path or a package, not both`,
      );
    }
    return { ...v, origin: `${file}:${parsed.lineOf(["waivers", i])}` };
  });
}
