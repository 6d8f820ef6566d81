/**
 * Layering policies: built-in common rules, then the image type's, then a --policy file. A later layer's
 * check entry overrides scalar fields; list parameters merge item by item (same key: replaced; `remove:
 * true`: dropped; new key: appended).
 */
import { checkNamed } from "./checks/index.js";
import type { CheckName, CheckRule, PolicyDocument, RuleMeta } from "./types.js";

type Checks = Partial<Record<CheckName, CheckRule>>;

function mergeList(base: readonly RuleMeta[], overlay: readonly RuleMeta[], key: string): RuleMeta[] {
  const keyOf = (i: RuleMeta) => String((i as Record<string, unknown>)[key]);
  const out = [...base];
  for (const item of overlay) {
    const at = out.findIndex((b) => keyOf(b) === keyOf(item));
    if (item.remove) {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = item;
    else out.push(item);
  }
  return out;
}

export function mergeRule(name: CheckName, base: CheckRule | undefined, overlay: CheckRule): CheckRule {
  const lists = checkNamed(name)?.lists ?? {};
  const out: Record<string, unknown> = { ...(base ?? {}), ...overlay };
  for (const [param, key] of Object.entries(lists)) {
    const b = (base?.[param] as RuleMeta[] | undefined) ?? [];
    const o = overlay[param] as RuleMeta[] | undefined;
    if (o !== undefined) out[param] = mergeList(b, o, key);
  }
  return out as CheckRule;
}

export function mergePolicies(layers: readonly PolicyDocument[]): Checks {
  const out: Checks = {};
  for (const layer of layers) {
    for (const [name, rule] of Object.entries(layer.checks) as [CheckName, CheckRule][]) {
      out[name] = mergeRule(name, out[name], rule);
    }
  }
  return out;
}
