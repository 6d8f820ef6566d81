/**
 * The rpmdb readers bundled the way scripts/build.mjs bundles the CLI (esbuild, dependencies external),
 * run from a directory inside the repository like dist/: the library needs no file beside the bundle.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DATA = fileURLToPath(new URL("../data/rpm", import.meta.url));
mkdirSync(join(REPO, ".cache"), { recursive: true });
const out = mkdtempSync(join(REPO, ".cache", "rpm-bundle-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it("reads rpmdb.sqlite from an esbuild bundle", async () => {
  const entry = join(out, "entry.ts");
  writeFileSync(
    entry,
    `import { hostRpmdbDir, readRpmdb, nevra } from ${JSON.stringify(join(REPO, "src/rpm/index.ts"))};\n` +
      "const db = await readRpmdb(hostRpmdbDir(process.argv[2]));\n" +
      'process.stdout.write(db.format + "\\n" + db.packages.map(nevra).join("\\n") + "\\n");\n',
  );
  await build({
    entryPoints: [entry],
    outfile: join(out, "dist", "rpmdb.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  const db = join(out, "db");
  mkdirSync(db);
  copyFileSync(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite"), join(db, "rpmdb.sqlite"));
  const r = spawnSync(process.execPath, [join(out, "dist", "rpmdb.mjs"), db], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  const [format, ...names] = r.stdout.trim().split("\n");
  expect(format).toBe("sqlite");
  const expected = JSON.parse(
    readFileSync(join(DATA, "sqlite-cbl-mariner-2.0/rpmdb.sqlite.expected.json"), "utf8"),
  ) as {
    name: string;
  }[];
  expect(names.map((n) => n.split("-").slice(0, -2).join("-"))).toEqual(expected.map((p) => p.name));
});
