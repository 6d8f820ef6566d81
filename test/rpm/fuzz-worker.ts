// Runs the rpm fuzz cases (headers; Berkeley DB, NDB and sqlite databases; sqlite logs) for fuzz.test.ts in a worker thread (bundled by the test with esbuild), so a
// hang can be cut off from outside. Each phase runs for its time budget; before each case the worker
// posts a heartbeat naming it, and at the end of a phase a summary.

import { parentPort, workerData } from "node:worker_threads";
import { RpmFormatError } from "../../src/errors.js";
import { checkIndexFast } from "../../src/rpm/header-index.js";
import {
  checkIndex,
  forEachSqlitePackage,
  type HeaderEntry,
  locateHeader,
  packageFromHeader,
  parseHeader,
  type RpmHeader,
  RpmType,
  readBdbHash,
  readNdb,
  readWal,
  verifyHeaderDigest,
} from "../../src/rpm/index.js";
import { emptyPhaseSummary, recordCase } from "../helpers/fuzz-case.js";
import type { FuzzPhaseSummary, FuzzWorkerMessage } from "../helpers/fuzz-worker.js";
import { mutateMany, type Region, randInt, rng } from "../helpers/mutate.js";

export type FuzzKind = "header" | "bdb" | "ndb" | "sqlite" | "wal";

export interface FuzzFixture {
  kind: FuzzKind;
  name: string;
  /** What is mutated (for "wal": the log). */
  data: Uint8Array;
  /** "wal": the database file the log belongs to (not mutated). */
  base?: Uint8Array;
  regions: Region[];
}

export interface PhaseSummary extends FuzzPhaseSummary {
  kind: FuzzKind;
}

type WorkerMessage = FuzzWorkerMessage<PhaseSummary>;

const { fixtures, budgets, seed0 } = workerData as {
  fixtures: FuzzFixture[];
  budgets: Record<FuzzKind, number>;
  seed0: number;
};

/** Reads everything a caller could read from an accepted header, with every accessor. */
function exercise(h: RpmHeader): void {
  verifyHeaderDigest(h);
  for (const e of h.entries.values() as Iterable<HeaderEntry>) {
    if (e.type === RpmType.STRING || e.type === RpmType.STRING_ARRAY || e.type === RpmType.I18NSTRING) {
      h.strings(e.tag);
      h.string(e.tag);
    } else if (e.type === RpmType.BIN) h.hex(e.tag);
    else {
      h.bigints(e.tag);
      try {
        h.numbers(e.tag);
      } catch (err) {
        if (!(err instanceof RpmFormatError)) throw err; // INT64 beyond 2^53
      }
    }
  }
  try {
    packageFromHeader(h);
  } catch (err) {
    if (!(err instanceof RpmFormatError)) throw err;
  }
}

/**
 * The WebAssembly index check (header-index.wat) must give the JavaScript one's verdict and table; a
 * disagreement is thrown as a plain Error, which fails the case.
 */
function compareIndexChecks(blob: Buffer): void {
  let index: ReturnType<typeof locateHeader>["index"];
  try {
    index = locateHeader(blob, { magic: false }, "fuzz").index;
  } catch (err) {
    if (err instanceof RpmFormatError) return; // intro or region: before either check
    throw err;
  }
  const fast = checkIndexFast(index);
  let js: Int32Array | null = null;
  try {
    js = checkIndex(index, "fuzz");
  } catch (err) {
    if (!(err instanceof RpmFormatError)) throw err;
  }
  if (fast === null && js === null) return;
  if (fast === null || js === null || fast.length !== js.length || fast.some((v, i) => v !== js[i]))
    throw new Error(
      `index checks disagree: WebAssembly ${fast ? "accepts" : "rejects"}, JavaScript ${js ? "accepts" : "rejects"}`,
    );
}

/** One case; the outcome (for logs: whether the mutated log still committed anything). */
function run(kind: FuzzKind, data: Buffer, base: Buffer | null): string {
  const header = (blob: Buffer) => {
    compareIndexChecks(blob);
    exercise(parseHeader(blob, { magic: false }));
  };
  if (kind === "header") header(data);
  else if (kind === "bdb") for (const { value } of readBdbHash(data)) header(value);
  else if (kind === "ndb") for (const { blob } of readNdb(data)) header(blob);
  // the database readers' own work: headers are the header phase's business
  else if (kind === "sqlite") forEachSqlitePackage(data, null, () => {});
  else {
    forEachSqlitePackage(base!, data, () => {});
    return readWal(base!, data).pages === null ? "log ignored" : "log applied";
  }
  return "ok";
}

let seed = seed0;
for (const kind of ["header", "bdb", "ndb", "sqlite", "wal"] as const) {
  const mine = fixtures.filter((f) => f.kind === kind);
  const summary: PhaseSummary = { kind, ...emptyPhaseSummary() };
  const end = Date.now() + budgets[kind];
  while (Date.now() < end) {
    seed++;
    parentPort!.postMessage({ type: "case", label: `${kind} seed ${seed}` } satisfies WorkerMessage);
    const r = rng(seed);
    const f = mine[randInt(r, 0, mine.length)]!;
    const m = mutateMany(Buffer.from(f.data), r, f.regions, randInt(r, 1, 4));
    await recordCase(summary, `${kind} seed ${seed} ${f.name}: ${m.description}`, () => {
      return run(kind, m.data, f.base ? Buffer.from(f.base) : null);
    });
  }
  parentPort!.postMessage({ type: "summary", summary } satisfies WorkerMessage);
}
parentPort!.postMessage({ type: "done" } satisfies WorkerMessage);
