/**
 * The library's layers (SYSTEM.md) import only downward: every import in src/ is checked against the
 * table below, which says what each layer may use. A new directory under src/ must be placed in it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/**
 * What each layer may import (besides itself). `base` is the files directly in src/ (errors, files,
 * retry, text); `entry` is src/index.ts. catalog and resolve are pure; rpm, disk and fs know nothing
 * of the catalog; stores know nothing of legs; reporting does not depend on the stores.
 */
const BELOW_PIPELINE = [
  "catalog",
  "resolve",
  "rpm",
  "disk",
  "fs",
  "inspect",
  "publish",
  "manifest",
  "ci",
  "notify",
  "workflows",
  "process",
  "release",
  "boot",
  "policy",
  "base",
];
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  base: [],
  catalog: ["base"],
  resolve: ["catalog", "base"],
  rpm: ["base"],
  disk: ["base"],
  fs: ["disk", "base"],
  process: ["base"],
  inspect: ["disk", "fs", "rpm", "catalog", "resolve", "process", "base"],
  publish: ["process", "base"],
  manifest: ["publish", "base"],
  ci: ["base"],
  policy: ["inspect", "fs", "disk", "rpm", "catalog", "base"],
  notify: ["manifest", "inspect", "ci", "base"],
  release: ["catalog", "manifest", "publish", "inspect", "base"],
  workflows: ["catalog", "resolve", "base"],
  boot: ["catalog", "resolve", "disk", "fs", "rpm", "inspect", "policy", "process", "base"],
  pipeline: BELOW_PIPELINE,
  cli: [...BELOW_PIPELINE, "pipeline"],
};

/** Node modules that do I/O; the pure layers import none of them. */
const IO_MODULES = /^node:(fs|fs\/promises|http|https|net|child_process|dgram|dns|os|worker_threads)$/;
const PURE = new Set(["catalog", "resolve"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  if (rel === "index.ts") return "entry";
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "base";
}

/** Static imports, re-exports and dynamic import() of one file, as written. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
}

interface Edge {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly spec: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (relative(SRC, target).startsWith("..")) continue; // package.json and the like
      out.push({ file: relative(SRC, file), from: layerOf(file), to: layerOf(target), spec });
    }
  }
  return out;
}

/** The layers each layer reaches through any chain of allowed imports. */
function reach(layer: string, seen = new Set<string>()): Set<string> {
  for (const next of MAY_IMPORT[layer] ?? []) {
    if (!seen.has(next)) {
      seen.add(next);
      reach(next, seen);
    }
  }
  return seen;
}

describe("layers", () => {
  it("every directory of src/ is a layer of the table", () => {
    const dirs = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const unplaced = dirs.filter((d) => !(d in MAY_IMPORT));
    expect(unplaced, "add each to MAY_IMPORT in test/layers.test.ts with the layers it may use").toEqual([]);
  });

  it("the table itself has no cycle", () => {
    for (const layer of Object.keys(MAY_IMPORT)) expect(reach(layer).has(layer), layer).toBe(false);
  });

  it("every import in src/ goes to the same layer or one it may use", () => {
    const all = edges();
    expect(all.length).toBeGreaterThan(100);
    const wrong = all
      .filter((e) => e.from !== e.to && e.from !== "entry" && !MAY_IMPORT[e.from]?.includes(e.to))
      .map((e) => `${e.file} (${e.from}) imports ${e.spec} (${e.to})`);
    expect(wrong).toEqual([]);
  });

  it("catalog and resolve do no I/O", () => {
    const wrong = sourceFiles(SRC)
      .filter((f) => PURE.has(layerOf(f)))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => IO_MODULES.test(s) || IO_MODULES.test(`node:${s}`))
          .map((s) => `${relative(SRC, f)} imports ${s}`),
      );
    expect(wrong).toEqual([]);
  });

  it("the entry point exports every layer below the CLI", () => {
    const exported = new Set(
      importsOf(join(SRC, "index.ts")).map((s) => layerOf(resolve(SRC, s.replace(/\.js$/, ".ts")))),
    );
    const layers = Object.keys(MAY_IMPORT).filter((l) => l !== "cli" && l !== "base");
    expect(layers.filter((l) => !exported.has(l))).toEqual([]);
  });
});
