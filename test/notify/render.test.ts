/**
 * The job summary, the Mattermost text and the run table, against messages written by hand from the
 * seed's composite action (test/data/notify/expected/); the package diff against coreutils `comm`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { diffPackageNames, parsePackageNames } from "../../src/inspect/package-diff.js";
import type { LegManifest } from "../../src/manifest/manifest.js";
import { findManifestFiles, readLegManifest } from "../../src/manifest/read.js";
import { renderRunMattermostText, renderRunSummary, renderRunTable } from "../../src/notify/aggregate.js";
import { legLinks, testStatusLine, workflowRunUrl } from "../../src/notify/links.js";
import { renderJobSummary, renderMattermostText, renderPackageDiff } from "../../src/notify/render.js";

const DATA = fileURLToPath(new URL("../data/notify/", import.meta.url));
const expected = (name: string) => readFileSync(`${DATA}expected/${name}`, "utf8");
const RUN_URL = "https://github.com/AlmaLinux/cloud-images/actions/runs/13338451234";
const PREV = `${DATA}AlmaLinux-9-GenericCloud-9.5-20241120.x86_64.qcow2.txt`;
const CURR = `${DATA}AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2.txt`;

const gencloud = () => readLegManifest(`${DATA}gencloud-9-x86_64.manifest.json`);

/** `comm` on byte-sorted copies: lines only in `b` (added) and only in `a` (removed), duplicates paired. */
function comm(a: string, b: string): { added: string[]; removed: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "comm-"));
  try {
    const env = { LC_ALL: "C", PATH: process.env.PATH };
    execFileSync("sort", ["-o", join(dir, "a"), a], { env });
    execFileSync("sort", ["-o", join(dir, "b"), b], { env });
    const run = (flag: string) =>
      execFileSync("comm", [flag, join(dir, "a"), join(dir, "b")], { env, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    return { added: run("-13"), removed: run("-23") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = (f: string) => Number(execFileSync("wc", ["-l", f], { encoding: "utf8" }).trim().split(" ")[0]);

describe("one leg", () => {
  it("renders the seed's job summary", async () => {
    const m = await gencloud();
    expect(renderJobSummary(m, { links: legLinks(m) })).toBe(expected("gencloud-summary.md"));
  });

  it("renders the seed's Mattermost message, with the run link when there is one", async () => {
    const m = await gencloud();
    const links = legLinks(m);
    expect(renderMattermostText(m, { links, runUrl: RUN_URL })).toBe(expected("gencloud-mattermost.md"));
    const local = renderMattermostText(m, { links });
    expect(local.split("\n")[0]).toBe(
      ":almalinux: **AlmaLinux release 9.6 x86_64** Gencloud Image build `20260220143000`",
    );
  });

  it("links only what was published", async () => {
    const m = await gencloud();
    const onlyImage: LegManifest = {
      ...m,
      published: { ...m.published!, objects: m.published!.objects.filter((o) => o.role === "image") },
    };
    const summary = renderJobSummary(onlyImage, { links: legLinks(onlyImage) });
    expect(summary.split("\n").filter((l) => l.startsWith("<a "))).toHaveLength(1);
    const text = renderMattermostText(onlyImage, { links: legLinks(onlyImage) });
    expect(text.split("\n").slice(1)).toEqual([
      expect.stringMatching(/^- Image: \[AlmaLinux-9-GenericCloud-9\.6-20260220\.x86_64\.qcow2\]\(https:/),
      "- Tests (offline) passed ✅",
    ]);
    const nothing: LegManifest = { ...m, published: undefined, tests: { offline: "failed" } };
    expect(renderJobSummary(nothing, { links: legLinks(nothing) })).toBe(
      "**AlmaLinux release 9.6 x86_64** Gencloud Image build `20260220143000`\nTests (offline) failed ❌\n",
    );
  });

  it("links the published SBOM after the seed's three objects (summary, message, run table)", async () => {
    const m = await gencloud();
    const image = m.published!.objects.find((o) => o.role === "image")!;
    const sbom = {
      ...image,
      role: "sbom" as const,
      name: `${image.name}.cdx.json`,
      url: `${image.url}.cdx.json`,
    };
    const withSbom: LegManifest = {
      ...m,
      published: { ...m.published!, objects: [...m.published!.objects, sbom] },
    };
    const links = legLinks(withSbom);
    expect(links.sbom).toEqual({ name: sbom.name, url: sbom.url });
    const summary = renderJobSummary(withSbom, { links });
    expect(summary).toBe(
      expected("gencloud-summary.md").replace(
        "Tests (offline)",
        `<a href="${sbom.url}">${sbom.name}</a>\nTests (offline)`,
      ),
    );
    const text = renderMattermostText(withSbom, { links });
    expect(text.split("\n").at(-2)).toBe(`- SBOM (CycloneDX): [${sbom.name}](${sbom.url})`);
    expect(renderRunTable([withSbom])).toContain(`[sbom](${sbom.url})`);
    // Without a published SBOM nothing changes (the seed's messages).
    expect(renderJobSummary(m, { links: legLinks(m) })).not.toContain("cdx.json");
  });

  it("lists every check that did not pass, under the test line, in both messages", async () => {
    const m = await gencloud();
    const failed: LegManifest = {
      ...m,
      tests: { offline: "failed" },
      verdict: {
        ...m.verdict!,
        passed: false,
        checks: [
          { name: "rpmdb", status: "pass", message: "ok" },
          {
            name: "sshd",
            status: "fail",
            found: "PermitRootLogin yes",
            message: "PermitRootLogin is yes <drop-in>",
          },
          { name: "leftovers", status: "warn", message: "waived: /root/anaconda-ks.cfg exists" },
          { name: "build-stamp", status: "skip", message: "no stamp\nfile" },
        ],
      },
    };
    const summary = renderJobSummary(failed, { links: legLinks(failed) }).split("\n");
    expect(summary.slice(summary.indexOf("Checks not passed:"))).toEqual([
      "Checks not passed:",
      "- FAIL ❌ `sshd`: PermitRootLogin is yes &lt;drop-in&gt;",
      "- WARN ⚠️ `leftovers`: waived: /root/anaconda-ks.cfg exists",
      "- SKIP `build-stamp`: no stamp file",
      "",
    ]);
    const text = renderMattermostText(failed, { links: legLinks(failed) }).split("\n");
    expect(text.slice(text.indexOf("- Tests (offline) failed ❌"))).toEqual([
      "- Tests (offline) failed ❌",
      "  - FAIL ❌ `sshd`: PermitRootLogin is yes <drop-in>",
      "  - WARN ⚠️ `leftovers`: waived: /root/anaconda-ks.cfg exists",
      "  - SKIP `build-stamp`: no stamp file",
    ]);
  });

  it("labels GitHub artifact links [zipped], as the seed does", async () => {
    const m = await readLegManifest(`${DATA}opennebula-10-v2-artifacts.manifest.json`);
    const base = "https://github.com/AlmaLinux/cloud-images/actions/runs/1/artifacts";
    const links = legLinks(m, {
      [m.image!.name]: `${base}/101`,
      [`${m.image!.name}.sha256sum`]: `${base}/102`,
    });
    expect(links.kind).toBe("artifact");
    expect(renderMattermostText(m, { links })).toBe(expected("opennebula-artifacts-mattermost.md"));
  });

  it("takes artifact links by role too (image=URL, as the shared action passes them)", async () => {
    const m = await readLegManifest(`${DATA}opennebula-10-v2-artifacts.manifest.json`);
    const base = "https://github.com/AlmaLinux/cloud-images/actions/runs/1/artifacts";
    const byRole = legLinks(m, { image: `${base}/101`, checksum: `${base}/102` });
    const byName = legLinks(m, {
      [m.image!.name]: `${base}/101`,
      [`${m.image!.name}.sha256sum`]: `${base}/102`,
    });
    expect(byRole).toEqual(byName);
    expect(byRole.image).toEqual({ name: m.image!.name, url: `${base}/101` });
  });

  it.each([
    [{ offline: "passed" }, "Tests (offline) passed ✅"],
    [{ offline: "failed" }, "Tests (offline) failed ❌"],
    [{ offline: "passed", boot: "passed" }, "Tests (boot) passed ✅"],
    [{ offline: "passed", boot: "failed" }, "Tests (boot) failed ❌"],
    [{ offline: "failed", boot: "passed" }, "Tests (offline) failed ❌"],
    [{ offline: "n/a" }, "Tests N/A ⚠️"],
    [{ offline: "n/a", boot: "n/a" }, "Tests N/A ⚠️"],
    [{ offline: "passed", boot: "n/a" }, "Tests (offline) passed ✅"],
  ] as const)("tests %j → exactly one line: %s", (tests, line) => {
    expect(testStatusLine(tests)).toBe(line);
  });

  it("builds the run URL from the runner's environment", () => {
    expect(
      workflowRunUrl({
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "AlmaLinux/cloud-images",
        GITHUB_RUN_ID: "13338451234",
      }),
    ).toBe(RUN_URL);
    expect(workflowRunUrl({ GITHUB_SERVER_URL: "https://github.com" })).toBeUndefined();
  });
});

describe("package diff", () => {
  it("matches comm on the real 9.5 → 9.7 GenericCloud lists", () => {
    const diff = diffPackageNames(
      parsePackageNames(readFileSync(PREV, "utf8")),
      parsePackageNames(readFileSync(CURR, "utf8")),
    );
    const oracle = comm(PREV, CURR);
    expect(diff.added).toEqual(oracle.added);
    expect(diff.removed).toEqual(oracle.removed);
    expect(diff.oldCount).toBe(lines(PREV));
    expect(diff.newCount).toBe(lines(CURR));
    expect(diff.added.length).toBeGreaterThan(0);
    const text = renderPackageDiff(diff);
    expect(text.split("\n")[0]).toBe(
      `**Packages** compared with the previous build: ${lines(PREV)} → ${lines(CURR)}, ${oracle.added.length} added, ${oracle.removed.length} removed`,
    );
    expect(text).toContain(
      `- Added (${oracle.added.length}): ${oracle.added.map((n) => `\`${n}\``).join(", ")}`,
    );
  });

  it("counts duplicates (AlmaLinux 8's two gpg-pubkey entries)", () => {
    const full = `${DATA}AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt`;
    const names = parsePackageNames(readFileSync(full, "utf8"));
    expect(names.filter((n) => n === "gpg-pubkey")).toHaveLength(2);
    const oneKey = [...names];
    oneKey.splice(oneKey.indexOf("gpg-pubkey"), 1);
    const diff = diffPackageNames(names, oneKey);
    expect(diff).toMatchObject({
      added: [],
      removed: ["gpg-pubkey"],
      oldCount: 439,
      newCount: 438,
      unchanged: 438,
    });
    expect(renderPackageDiff(diffPackageNames(names, names))).toBe(
      "**Packages** compared with the previous build: no change (439 packages)\n",
    );
  });
});

describe("a whole run", () => {
  it("renders all legs as one table, sorted, whatever the order found", async () => {
    const files = await findManifestFiles(`${DATA}run`);
    expect(files).toHaveLength(3);
    const manifests = await Promise.all(files.map(readLegManifest));
    expect(renderRunSummary(manifests)).toBe(expected("run-summary.md"));
    expect(renderRunSummary([...manifests].reverse())).toBe(expected("run-summary.md"));
    const text = renderRunMattermostText(manifests, { runUrl: RUN_URL });
    const [first, ...rest] = expected("run-summary.md").trimEnd().split("\n");
    expect(text).toBe([`:almalinux: ${first}, by the GitHub [Action](${RUN_URL})`, ...rest].join("\n"));
  });
});
