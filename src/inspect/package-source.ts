/**
 * One side of a package diff, recognised from its content: a disk image (its rpm database), a name
 * list in the seed's format (`IMAGE.txt`), or a JSON package list (as `packages --format json` prints).
 */

import { QCOW2_MAGIC } from "../disk/qcow2.js";
import { UsageError } from "../errors.js";
import { openInput, readInputFile } from "../files.js";
import type { ListedPackage } from "./package-diff.js";
import { parsePackageNames } from "./package-diff.js";
import { openImageRoot } from "./root.js";
import { readImagePackages } from "./rpmdb.js";

export type PackageListKind = "image" | "names" | "json";

export interface LoadedPackageList {
  readonly path: string;
  readonly kind: PackageListKind;
  readonly packages: readonly ListedPackage[];
}

/** Largest name or JSON list read (real ones are tens of KiB). */
const MAX_LIST_BYTES = 64 * 1024 * 1024;
const SNIFF_BYTES = 64 * 1024;

type Json = Record<string, unknown>;

/**
 * One record of a JSON list (fields other than name, epoch, version, release and arch are ignored),
 * or what is wrong with it.
 */
function listedPackage(value: unknown, at: string): ListedPackage | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${at} is not an object`;
  const v = value as Json;
  if (typeof v.name !== "string" || v.name === "") return `${at}.name is not a package name`;
  const out: { -readonly [K in keyof ListedPackage]: ListedPackage[K] } = { name: v.name };
  if (v.epoch !== undefined) {
    if (v.epoch !== null && !(Number.isInteger(v.epoch) && (v.epoch as number) >= 0))
      return `${at}.epoch is not a non-negative integer or null`;
    out.epoch = v.epoch as number | null;
  }
  for (const key of ["version", "release"] as const) {
    if (v[key] === undefined) continue;
    if (typeof v[key] !== "string") return `${at}.${key} is not a string`;
    out[key] = v[key] as string;
  }
  if (v.arch !== undefined) {
    if (v.arch !== null && typeof v.arch !== "string") return `${at}.arch is not a string or null`;
    out.arch = v.arch as string | null;
  }
  return out;
}

async function readStart(path: string): Promise<{ head: Buffer; size: number }> {
  const { handle: fh, stat: st } = await openInput(path, { blockDevices: true });
  try {
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
    await fh.read(head, 0, head.length, 0);
    return { head, size: st.size };
  } finally {
    await fh.close();
  }
}

/** Text whose every complete line is one token without spaces: a package-name list. */
function looksLikeNameList(head: Buffer, complete: boolean): boolean {
  if (head.includes(0)) return false;
  const text = head.toString("utf8");
  if (text.includes("\uFFFD")) return false;
  const lines = text.split("\n");
  if (!complete) lines.pop(); // may be cut in the middle
  return lines.every((l) => /^\s*[^\s]*\s*$/.test(l));
}

/** Decides what a file is from its first bytes. */
export function detectPackageListKind(head: Buffer, size: number): PackageListKind {
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return "image";
  const first = head.toString("latin1").trimStart()[0];
  if (first === "[" || first === "{") return "json";
  return looksLikeNameList(head, head.length === size) ? "names" : "image";
}

export function parsePackageListJson(text: string, path: string): ListedPackage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const list = Array.isArray(value) ? value : (value as Json | null)?.packages;
  if (!Array.isArray(list)) {
    throw new UsageError(`${path} is not a package list (expected [{"name": …, "version": …}, …])`);
  }
  const packages: ListedPackage[] = [];
  for (const [i, p] of list.entries()) {
    const parsed = listedPackage(p, `[${i}]`);
    if (typeof parsed === "string") throw new UsageError(`${path} is not a package list: ${parsed}`);
    packages.push(parsed);
  }
  return packages;
}

async function readWhole(path: string, size: number): Promise<string> {
  if (size > MAX_LIST_BYTES) throw new UsageError(`${path} is ${size} bytes, too large for a package list`);
  return (await readInputFile(path, { maxBytes: MAX_LIST_BYTES })).toString("utf8");
}

/** Reads a package list from an image, a name list or a JSON list. */
export async function loadPackageList(
  path: string,
  options: { readonly partition?: number } = {},
): Promise<LoadedPackageList> {
  const { head, size } = await readStart(path);
  const kind = detectPackageListKind(head, size);
  switch (kind) {
    case "names":
      return {
        path,
        kind,
        packages: parsePackageNames(await readWhole(path, size)).map((name) => ({ name })),
      };
    case "json":
      return { path, kind, packages: parsePackageListJson(await readWhole(path, size), path) };
    case "image": {
      const root = await openImageRoot(
        path,
        options.partition !== undefined ? { partition: options.partition } : {},
      );
      try {
        return { path, kind, packages: (await readImagePackages(root)).packages };
      } finally {
        await root.close();
      }
    }
  }
}
