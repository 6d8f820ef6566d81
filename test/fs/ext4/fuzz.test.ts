/**
 * Seeded, bounded fuzzing: small ext4/ext3/inline-data images with their metadata blocks mutated (bit
 * flips, extreme values, random overwrites, truncation). A full walk and read must succeed or throw a
 * CloudImagesError, each case within a time limit. Prints the iteration count and the slowest case.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { BufferSource } from "../../../src/disk/source.js";
import { isCloudImagesError } from "../../../src/errors.js";
import { openExt4 } from "../../../src/fs/ext4/index.js";
import type { Filesystem } from "../../../src/fs/types.js";
import { mutateMany, type Region, randInt, rng } from "../../helpers/mutate.js";
import { metadataRegions, type SmallKind, smallImage } from "./small-image.js";

const SEED = 20260220;
const ITERATIONS = 2000;
/** Stop early (still passing) if a slow machine would take much longer than the CI budget. */
const BUDGET_MS = 20_000;
const CASE_TIMEOUT_MS = 5_000;
const READ_CAP = 1 << 20;

interface Base {
  kind: SmallKind;
  data: Buffer;
  regions: Region[];
}

/** Walks everything reachable, reading files and links; a failing operation is noted and skipped. */
async function exercise(data: Buffer): Promise<{ ops: number; errors: number }> {
  let ops = 0;
  let errors = 0;
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    ops++;
    try {
      return await fn();
    } catch (e) {
      if (!isCloudImagesError(e)) throw e;
      errors++;
      return undefined;
    }
  };
  const fs = await attempt<Filesystem>(() => openExt4(new BufferSource(data)));
  if (!fs) return { ops, errors };
  await attempt(() => fs.cleanState());
  const seen = new Set<number>([fs.rootIno]);
  const dirs = [fs.rootIno];
  while (dirs.length > 0 && ops < 5000) {
    const entries = (await attempt(() => fs.readDir(dirs.pop()!))) ?? [];
    for (const e of entries.slice(0, 2000)) {
      const st = await attempt(() => fs.stat(e.ino));
      if (!st) continue;
      await attempt(() => fs.listXattrs(e.ino));
      if (st.type === "dir" && !seen.has(e.ino)) {
        seen.add(e.ino);
        dirs.push(e.ino);
      } else if (st.type === "symlink") {
        await attempt(() => fs.readLink(e.ino));
      } else if (st.type === "file") {
        for (let off = 0; off < Math.min(st.size, READ_CAP); off += 65536) {
          if ((await attempt(() => fs.read(e.ino, off, 65536))) === undefined) break;
        }
      }
    }
  }
  return { ops, errors };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe("fuzzing ext4 metadata", () => {
  const bases: Base[] = [];

  beforeAll(async () => {
    for (const kind of ["extents", "indirect", "inline"] as const) {
      const img = await smallImage(kind);
      bases.push({ kind, data: readFileSync(img), regions: metadataRegions(img) });
    }
  });

  it("walks and reads every mutated image or throws a CloudImagesError, never hanging", {
    timeout: 120_000,
  }, async () => {
    // The pristine images walk cleanly.
    for (const b of bases) {
      expect(await exercise(b.data), b.kind).toMatchObject({ errors: 0 });
      expect(
        b.regions.some((r) => r.name.startsWith("attribute block")),
        b.kind,
      ).toBe(true);
    }

    const r = rng(SEED);
    const started = Date.now();
    let slowest = { ms: 0, what: "" };
    let iterations = 0;
    let failedCases = 0;
    for (; iterations < ITERATIONS && Date.now() - started < BUDGET_MS; iterations++) {
      const base = bases[iterations % bases.length]!;
      const m = mutateMany(base.data, r, base.regions, randInt(r, 1, 4));
      const what = `#${iterations} ${base.kind}: ${m.description}`;
      const t0 = performance.now();
      let result: { ops: number; errors: number };
      try {
        result = await withTimeout(exercise(m.data), CASE_TIMEOUT_MS, what);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).stack}`);
      }
      if (result.errors > 0) failedCases++;
      const ms = performance.now() - t0;
      if (ms > slowest.ms) slowest = { ms, what };
    }
    console.log(
      `ext4 fuzz: ${iterations} iterations (seed ${SEED}) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${failedCases} hit a CloudImagesError; slowest ${slowest.ms.toFixed(0)} ms: ${slowest.what}`,
    );
    expect(iterations).toBeGreaterThan(200);
    expect(failedCases).toBeGreaterThan(0);
  });
});
