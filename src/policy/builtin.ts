/**
 * The built-in policies: policies/common.json (every image type) and policies/TYPE.json, JSON data files
 * beside this module (copied next to the bundle by the build), read when a leg is verified.
 */
import { readFileSync } from "node:fs";
import { IMAGE_TYPES, type ImageType } from "../catalog/catalog.js";
import { mergePolicies } from "./merge.js";
import type { Policy, PolicyDocument } from "./types.js";

export const BUILTIN_POLICIES = ["common", ...IMAGE_TYPES] as const;

type BuiltinName = (typeof BUILTIN_POLICIES)[number];

const cache = new Map<string, PolicyDocument>();

/** One built-in policy file, parsed (the tests check every one against the file format). */
export function builtinDocument(name: BuiltinName): PolicyDocument {
  let doc = cache.get(name);
  if (!doc) {
    const url = new URL(`./policies/${name}.json`, import.meta.url);
    doc = JSON.parse(readFileSync(url, "utf8")) as PolicyDocument;
    cache.set(name, doc);
  }
  return doc;
}

/** A built-in policy with what it extends before it: common, then the `extends` chain, then itself. */
function builtinLayers(name: BuiltinName): PolicyDocument[] {
  const doc = builtinDocument(name);
  if (name === "common") return [doc];
  const base = doc.extends !== undefined && isBuiltinName(doc.extends) ? doc.extends : "common";
  return [...builtinLayers(base), doc];
}

/** The built-in policy of an image type, optionally with a --policy file's document on top. */
export function policyFor(
  type: ImageType | undefined,
  extra?: { name: string; doc: PolicyDocument },
): Policy {
  const layers: PolicyDocument[] = [];
  const names: string[] = [];
  if (type !== undefined) {
    layers.push(...builtinLayers(type));
    names.push(`${type} (built-in)`);
  }
  if (extra) {
    const base = extra.doc.extends;
    if (type === undefined && base !== undefined && isBuiltinName(base)) {
      layers.push(...builtinLayers(base));
      names.push(`${base} (built-in)`);
    }
    layers.push(extra.doc);
    names.push(extra.name);
  }
  return { name: names.join(" + ") || "none", checks: mergePolicies(layers) };
}

function isBuiltinName(s: string): s is BuiltinName {
  return (BUILTIN_POLICIES as readonly string[]).includes(s);
}
