import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WORKFLOW_IDS, WORKFLOWS } from "../../src/catalog/catalog.js";
import { runCli } from "../helpers/cli.js";

// Hand-written expectations, "type:variant" per leg, for every workflow and version.
const EXPECTED: Record<string, { x86_64: string; aarch64: string }> = {
  "azure 10-kitten": { x86_64: "azure:10-kitten", aarch64: "azure:10-kitten azure:10-kitten-64k" },
  "azure 10": { x86_64: "azure:10", aarch64: "azure:10 azure:10-64k" },
  "azure 9": { x86_64: "azure:9", aarch64: "azure:9 azure:9-64k" },
  "azure 8": { x86_64: "azure:8", aarch64: "" },
  "gencloud 10-kitten": {
    x86_64: "gencloud:10-kitten gencloud:10-kitten-v2 gencloud_ext4:10-kitten gencloud_ext4:10-kitten-v2",
    aarch64: "gencloud:10-kitten gencloud_ext4:10-kitten",
  },
  "gencloud 10": {
    x86_64: "gencloud:10 gencloud:10-v2 gencloud_ext4:10 gencloud_ext4:10-v2",
    aarch64: "gencloud:10 gencloud_ext4:10",
  },
  "gencloud 9": { x86_64: "gencloud:9 gencloud_ext4:9", aarch64: "gencloud:9 gencloud_ext4:9" },
  "gencloud 8": { x86_64: "gencloud:8 gencloud_ext4:8", aarch64: "gencloud:8 gencloud_ext4:8" },
  "oci 10": { x86_64: "oci:10", aarch64: "oci:10" },
  "oci 9": { x86_64: "oci:9", aarch64: "oci:9" },
  "oci 8": { x86_64: "oci:8", aarch64: "oci:8" },
  "opennebula 10-kitten": {
    x86_64: "opennebula:10-kitten opennebula:10-kitten-v2",
    aarch64: "opennebula:10-kitten",
  },
  "opennebula 10": { x86_64: "opennebula:10 opennebula:10-v2", aarch64: "opennebula:10" },
  "opennebula 9": { x86_64: "opennebula:9", aarch64: "opennebula:9" },
  "opennebula 8": { x86_64: "opennebula:8", aarch64: "opennebula:8" },
};

const legs = (s: string) =>
  s
    .split(" ")
    .filter(Boolean)
    .map((l) => {
      const [type, variant] = l.split(":");
      return { type, variant };
    });

const combos = WORKFLOW_IDS.flatMap((w) =>
  WORKFLOWS[w].versions.flatMap((v) => [true, false].map((selfHosted) => ({ w, v, selfHosted }))),
);

describe("matrix", () => {
  it("covers every workflow × version combination", () => {
    expect(
      combos
        .map((c) => `${c.w} ${c.v}`)
        .filter((_, i) => i % 2 === 0)
        .sort(),
    ).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(combos)("$w $v self-hosted=$selfHosted", async ({ w, v, selfHosted }) => {
    const args = ["matrix", "--workflow", w, "--version", v, "--json"];
    if (!selfHosted) args.push("--no-self-hosted");
    const r = await runCli(args);
    expect(r.code).toBe(0);
    const want = EXPECTED[`${w} ${v}`]!;
    expect(JSON.parse(r.stdout)).toEqual({
      x86_64: legs(want.x86_64),
      aarch64: selfHosted ? legs(want.aarch64) : [],
    });
  });

  it("--github appends x86_64 and aarch64 lines to $GITHUB_OUTPUT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "matrix-"));
    const out = join(dir, "output");
    writeFileSync(out, "before=1\n");
    const r = await runCli(["matrix", "--workflow", "azure", "--version", "8", "--github"], {
      env: { GITHUB_OUTPUT: out },
    });
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe('before=1\nx86_64=[{"type":"azure","variant":"8"}]\naarch64=[]\n');
  });

  it("--github outside Actions is a usage error", async () => {
    const r = await runCli(["matrix", "--workflow", "azure", "--version", "8", "--github"], {
      env: { GITHUB_OUTPUT: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GITHUB_OUTPUT is not set/);
  });

  it.each([
    [
      ["--workflow", "oci", "--version", "10-kitten"],
      /workflow oci does not build version 10-kitten \(valid: 10, 9, 8\)/,
    ],
    [
      ["--workflow", "vagrant", "--version", "9"],
      /unknown workflow "vagrant" \(valid: azure, gencloud, oci, opennebula\)/,
    ],
    [["--workflow", "azure", "--version", "7"], /unknown version "7" \(valid: 10-kitten, 10, 9, 8\)/],
    [["--workflow", "azure"], /required option '--version <V>' not specified/],
  ])("refuses %j with exit 2", async (args, message) => {
    const r = await runCli(["matrix", ...args, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });
});
