/** Reading leg manifests for reports: one file, or every `*.manifest.json` under a directory. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { readInputFile } from "../files.js";
import { type LegManifest, legManifestSchema } from "./manifest.js";

/** Parses and validates one manifest; anything wrong is a one-line UsageError naming the file. */
export async function readLegManifest(path: string): Promise<LegManifest> {
  const text = (await readInputFile(path, { what: "manifest" })).toString("utf8");
  return parseLegManifest(text, path);
}

export function parseLegManifest(text: string, what = "manifest"): LegManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = legManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw new UsageError(`${what} is not a leg manifest: ${at}: ${issue.message}`);
  }
  return parsed.data;
}

/** Every `*.manifest.json` below `dir` (artifacts of a run are often one directory per leg), sorted by path. */
export async function findManifestFiles(dir: string): Promise<string[]> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    throw new UsageError(`cannot read manifest directory ${dir}: no such directory`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  const found: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory() && depth < 4) await walk(path, depth + 1);
      else if (entry.isFile() && entry.name.endsWith(".manifest.json")) found.push(path);
    }
  };
  await walk(dir, 0);
  if (found.length === 0) throw new UsageError(`no *.manifest.json files under ${dir}`);
  return found.sort();
}
