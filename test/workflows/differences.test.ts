// The README's list of deliberate differences from upstream is machine-readable: a YAML list under its
// heading in the CI section, each entry with what upstream does, what we do, why, and the test holding it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { REPO_ROOT } from "../helpers/cli.js";

const HEADING = "### Deliberate differences from upstream";

const entrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  upstream: z.string().min(10),
  ours: z.string().min(10),
  reason: z.string().min(10),
  test: z.string().regex(/^test\/.+\.test\.ts$/),
});

/** The first ```yaml block after the heading, inside the CI section. */
function differencesBlock(readme: string): string {
  const at = readme.indexOf(HEADING);
  if (at < 0) throw new Error(`README has no "${HEADING}"`);
  const ci = readme.lastIndexOf("\n## ", at);
  if (!readme.slice(ci, at).startsWith("\n## CI")) throw new Error("the list is not in the CI section");
  const m = /```yaml\n([\s\S]*?)\n```/.exec(readme.slice(at));
  if (!m) throw new Error("no ```yaml block after the heading");
  return m[1]!;
}

describe("README: deliberate differences from upstream", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const entries = z.array(entrySchema).parse(parse(differencesBlock(readme)));

  it("is a list of complete entries with unique ids", () => {
    expect(entries.length).toBeGreaterThanOrEqual(10);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
  });

  it("names the differences the issue asked to record", () => {
    const ids = entries.map((e) => e.id);
    for (const id of ["ec2-runner-per-leg", "no-azure-8-aarch64", "exact-release-checks"]) {
      expect(ids).toContain(id);
    }
  });

  it("names a test that exists for every entry", () => {
    for (const e of entries) expect(existsSync(join(REPO_ROOT, e.test)), `${e.id}: ${e.test}`).toBe(true);
  });

  it("rejects an entry without a reason (control)", () => {
    const broken = differencesBlock(readme).replace(/\n {2}reason: [^\n]*/, "");
    expect(() => z.array(entrySchema).parse(parse(broken))).toThrow(/reason/);
  });
});
