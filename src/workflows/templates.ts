/**
 * Do the Packer templates define and build the source every catalog leg asks for? Parses the
 * `*.pkr.hcl` files of a directory (Packer reads only that directory, not below it) with hcl2json,
 * collects `source "TYPE" "NAME"` blocks and the sources each `build` block lists, and matches them
 * against the resolved `packerSource` of each leg. For a built source it also works out the file Packer
 * will write (output_directory, vm_name and format; see hcl-values.ts) and checks it
 * against the leg's output mask and image format. This is the check that lets a missing source or a
 * misnamed image fail in seconds instead of after a runner has started and a build has run.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { allLegs, isKitten, type Leg, parseVariant } from "../catalog/catalog.js";
import { PackerTemplateError } from "../errors.js";
import { maskOverlaps } from "../resolve/mask.js";
import { type ResolvedLeg, resolveLeg } from "../resolve/resolve.js";
import { workOut } from "./hcl-values.js";

/**
 * `ok`: defined and built; `not-built`: defined but in no build block; `missing`: no source block;
 * `mismatch`: built, but the image it writes is not what the leg's output mask or format expects.
 */
export type LegTemplateState = "ok" | "not-built" | "missing" | "mismatch";

/** The image a source writes, as far as the templates alone say (see hcl-values.ts). */
export interface TemplateOutput {
  /** `output_directory/vm_name`, variables at their values, `timestamp()` at a sample time. */
  readonly path: string;
  readonly format: string;
  /** Expressions not worked out (kept as written in path/format); a mismatch is reported only where none could match. */
  readonly open: readonly string[];
}

export interface LegTemplateStatus {
  readonly leg: Leg;
  /** As `packer build -only=` takes it: `qemu.NAME`. */
  readonly packerSource: string;
  readonly state: LegTemplateState;
  /** The file defining the source block, when there is one. */
  readonly file?: string;
  /** What a built source writes. */
  readonly output?: TemplateOutput;
  /** What makes the state `mismatch`. */
  readonly problems?: readonly string[];
}

export interface TemplatesReport {
  readonly dir: string;
  /** The template files read, relative to dir, sorted. */
  readonly files: readonly string[];
  readonly legs: readonly LegTemplateStatus[];
  /** Sources defined (`TYPE.NAME`) that no catalog leg uses. */
  readonly orphans: readonly string[];
  /** Build-block references (`TYPE.NAME`) to sources no file defines. */
  readonly undefinedReferences: readonly string[];
  /** True when every checked leg is `ok`. */
  readonly ok: boolean;
}

interface ParsedTemplates {
  /** `TYPE.NAME` → defining file. */
  readonly sources: Map<string, string>;
  /** `TYPE.NAME` → its settings (the first block, as Packer refuses duplicates). */
  readonly bodies: Map<string, HclBody>;
  /** Variable values (defaults, then *.auto.pkrvars.hcl) and locals, for working out names. */
  readonly variables: Map<string, unknown>;
  readonly locals: Map<string, unknown>;
  /** Names `packer build -only=` accepts (`TYPE.NAME`, or a build source block's `name`) → source built. */
  readonly buildable: Map<string, string>;
  /** Sources the build blocks refer to. */
  readonly referenced: Set<string>;
}

type HclBody = Record<string, unknown>;

const asBodies = (v: unknown): HclBody[] =>
  Array.isArray(v) ? v.filter((b): b is HclBody => typeof b === "object" && b !== null) : [];

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** `source.qemu.NAME` or `qemu.NAME` → `qemu.NAME`. */
function sourceRef(ref: string): string {
  return ref.startsWith("source.") ? ref.slice("source.".length) : ref;
}

function collect(json: HclBody, file: string, into: ParsedTemplates): void {
  for (const [type, byName] of Object.entries(asRecord(json.source))) {
    for (const [name, bodies] of Object.entries(asRecord(byName))) {
      const key = `${type}.${name}`;
      if (into.sources.has(key)) continue;
      into.sources.set(key, file);
      into.bodies.set(key, asBodies(bodies)[0] ?? {});
    }
  }
  for (const [name, bodies] of Object.entries(asRecord(json.variable))) {
    const body = asBodies(bodies)[0];
    if (body && "default" in body) into.variables.set(name, body.default);
  }
  for (const body of asBodies(json.locals)) {
    for (const [name, value] of Object.entries(body)) into.locals.set(name, value);
  }
  for (const build of asBodies(json.build)) {
    const listed = Array.isArray(build.sources) ? build.sources : [];
    for (const ref of listed) {
      if (typeof ref !== "string") continue;
      into.referenced.add(sourceRef(ref));
      into.buildable.set(sourceRef(ref), sourceRef(ref));
    }
    // `source "source.qemu.NAME" { name = "OTHER" }` inside build: builds NAME, as OTHER when renamed.
    for (const [label, bodies] of Object.entries(asRecord(build.source))) {
      const ref = sourceRef(label);
      into.referenced.add(ref);
      for (const body of asBodies(bodies)) {
        const type = ref.split(".")[0];
        into.buildable.set(typeof body.name === "string" ? `${type}.${body.name}` : ref, ref);
      }
    }
  }
}

async function parseTemplates(dir: string): Promise<{ files: string[]; parsed: ParsedTemplates }> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : (e as Error).message;
    throw new PackerTemplateError(`templates directory ${dir} ${why}`, { cause: e });
  }
  const files = entries.filter((f) => f.endsWith(".pkr.hcl")).sort();
  if (files.length === 0) throw new PackerTemplateError(`no *.pkr.hcl files in ${dir}`);
  // Loaded lazily: the WebAssembly parser takes about a second to start.
  const { parse } = await import("@cdktf/hcl2json");
  const parsed: ParsedTemplates = {
    sources: new Map(),
    bodies: new Map(),
    variables: new Map(),
    locals: new Map(),
    buildable: new Map(),
    referenced: new Set(),
  };
  const read = async (file: string): Promise<HclBody> => {
    const path = join(dir, file);
    try {
      return (await parse(path, await readFile(path, "utf8"))) as HclBody;
    } catch (e) {
      throw new PackerTemplateError(`${path}: ${syntaxMessage(e)}`, { cause: e });
    }
  };
  for (const file of files) collect(await read(file), file, parsed);
  // Packer also loads these variable files from the directory; their values beat the defaults.
  for (const file of entries.filter((f) => f.endsWith(".auto.pkrvars.hcl")).sort()) {
    for (const [name, value] of Object.entries(await read(file))) parsed.variables.set(name, value);
  }
  return { files, parsed };
}

/** hcl2json says `parse config: [FILE:2,7-3,1: Summary; Detail.]`; keep the position and the words. */
function syntaxMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const inner = /\[(.*)\]\s*$/s.exec(raw)?.[1] ?? raw;
  const m = /:(\d+),(\d+)(?:-[\d,]+)?: (.*)$/s.exec(inner);
  const text = (m ? `line ${m[1]}, column ${m[2]}: ${m[3]}` : inner).replace(/\s+/g, " ").trim();
  return `syntax error at ${text}`;
}

/** The leg's names that depend on neither release nor time stamp: Packer source, output mask, format. */
function resolveNames(leg: Leg): ResolvedLeg {
  const version = parseVariant(leg.variant)!.version;
  const release = isKitten(version) ? "10" : `${version}.0`;
  return resolveLeg(leg, release, "19700101000000");
}

/** The Packer source a leg builds (`qemu.NAME`). */
export function packerSourceOf(leg: Leg): string {
  return resolveNames(leg).packerSource;
}

/** Checks what a built source writes against the leg's mask and format (Packer's defaults apply). */
function checkOutput(
  resolved: ResolvedLeg,
  body: HclBody,
  parsed: ParsedTemplates,
): Pick<LegTemplateStatus, "output" | "problems"> {
  const name = resolved.packerSource.slice(resolved.packerSource.indexOf(".") + 1);
  const directory = workOut(body.output_directory ?? `output-${name}`, parsed);
  const file = workOut(body.vm_name ?? `packer-${name}`, parsed);
  const format = workOut(body.format ?? "qcow2", parsed);
  const tidy = (dir: string) => dir.replace(/^\.\//, "").replace(/\/+$/, "");
  const output: TemplateOutput = {
    path: `${tidy(directory.text)}/${file.text}`,
    format: format.text,
    open: [...directory.open, ...file.open, ...format.open],
  };
  const problems: string[] = [];
  if (!maskOverlaps(resolved.outputMask, `${tidy(directory.glob)}/${file.glob}`)) {
    problems.push(`writes ${output.path}, which the output mask ${resolved.outputMask} cannot match`);
  }
  if (format.open.length === 0 && format.text !== resolved.imageFormat) {
    problems.push(`writes format ${format.text}, the leg expects ${resolved.imageFormat}`);
  }
  return problems.length > 0 ? { output, problems } : { output };
}

/**
 * Checks `legs` (default: every leg of the catalog) against the templates in `dir`.
 * Throws PackerTemplateError (exit 2) when the directory has no templates or one does not parse.
 */
export async function checkTemplates(
  dir: string,
  legs: readonly Leg[] = allLegs(),
): Promise<TemplatesReport> {
  const { files, parsed } = await parseTemplates(dir);
  const statuses = legs.map((leg): LegTemplateStatus => {
    const resolved = resolveNames(leg);
    const packerSource = resolved.packerSource;
    const built = parsed.buildable.get(packerSource);
    const builtFrom = built === undefined ? undefined : parsed.sources.get(built);
    if (builtFrom !== undefined) {
      const output = checkOutput(resolved, parsed.bodies.get(built!)!, parsed);
      const state = output.problems ? "mismatch" : "ok";
      return { leg, packerSource, state, file: builtFrom, ...output };
    }
    const file = parsed.sources.get(packerSource);
    if (file !== undefined) return { leg, packerSource, state: "not-built", file };
    return { leg, packerSource, state: "missing" };
  });
  const used = new Set(allLegs().map(packerSourceOf));
  return {
    dir,
    files,
    legs: statuses,
    orphans: [...parsed.sources.keys()].filter((s) => !used.has(s)).sort(),
    undefinedReferences: [...parsed.referenced].filter((s) => !parsed.sources.has(s)).sort(),
    ok: statuses.every((s) => s.state === "ok"),
  };
}
