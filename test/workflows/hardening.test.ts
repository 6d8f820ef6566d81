// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions are written as ${{ }} on purpose.
// Script injection, token permissions and action pinning in the committed CI files.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS } from "../../src/workflows/pins.js";
import {
  ACTION_PATH,
  ALL_PATHS,
  allSteps,
  committedText,
  committedYaml,
  type Obj,
  WORKFLOW_PATHS,
} from "./gha.js";

/** Names of steps whose run: (or shell:) text holds an expression. */
function stepsWithExpressionsInScripts(doc: Obj): string[] {
  return allSteps(doc)
    .filter((s) => `${s.run ?? ""}${s.shell ?? ""}`.includes("${{"))
    .map((s) => String(s.name));
}

describe("no expressions inside run:", () => {
  for (const path of ALL_PATHS) {
    it(path, () => {
      const doc = committedYaml(path);
      expect(allSteps(doc).filter((s) => typeof s.run === "string").length).toBeGreaterThan(0);
      expect(stepsWithExpressionsInScripts(doc)).toEqual([]);
    });
  }

  it("is a scan that can fail (control)", () => {
    const text = committedText(ACTION_PATH).replace('--leg "$LEG"', '--leg "${{ inputs.type }}"');
    expect(stepsWithExpressionsInScripts(parse(text) as Obj)).toEqual([
      "Check the Packer templates for this leg",
    ]);
  });
});

describe("token permissions", () => {
  for (const [id, path] of Object.entries(WORKFLOW_PATHS)) {
    it(`${id}: none at the top, id-token write + contents read on build jobs, attestations too on release`, () => {
      const doc = committedYaml(path);
      expect(doc.permissions).toEqual({});
      for (const [name, job] of Object.entries(doc.jobs as Record<string, Obj>)) {
        expect(job.permissions, `${name} declares its permissions`).toBeDefined();
        const perms = job.permissions as Record<string, string>;
        if (name.startsWith("build-")) {
          expect(perms).toEqual({ "id-token": "write", contents: "read" });
        } else if (name === "release") {
          expect(perms).toEqual({ "id-token": "write", contents: "read", attestations: "write" });
        } else {
          for (const [scope, level] of Object.entries(perms)) {
            expect(`${scope}: ${level}`).toBe("contents: read");
          }
        }
      }
      expect(committedText(path)).not.toMatch(/write-all|read-all/);
    });
  }
});

describe("pinned actions", () => {
  const usesLines = ALL_PATHS.flatMap((path) =>
    committedText(path)
      .split("\n")
      .filter((line) => /^\s*(-\s+)?uses:/.test(line))
      .map((line) => ({ path, line: line.trim().replace(/^-\s+/, "") })),
  );

  it("every third-party action is pinned to a full commit SHA with its release tag alongside", () => {
    const remote = usesLines.filter((u) => !u.line.startsWith("uses: ./"));
    expect(remote.length).toBeGreaterThan(10);
    for (const { path, line } of remote) {
      expect(line, path).toMatch(/^uses: [\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$/);
    }
  });

  it("the local action is the one this project ships, reached from its checkout", () => {
    const local = usesLines.filter((u) => u.line.startsWith("uses: ./"));
    expect(local.length).toBe(2 * Object.keys(WORKFLOW_PATHS).length);
    for (const { line } of local) expect(line).toBe("uses: ./tool/.github/actions/shared-steps");
  });

  it("every pin names a tag and a 40-hex SHA", () => {
    for (const pin of Object.values(ACTIONS)) {
      expect(pin.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.tag).toMatch(/^v\d+(\.\d+)*$/);
    }
  });

  it("the EC2 runner action goes by its new name, unblocked/ec2-action-builder", () => {
    expect(ACTIONS.ec2Runner.repo).toBe("unblocked/ec2-action-builder");
    for (const path of Object.values(WORKFLOW_PATHS)) {
      expect(committedText(path)).not.toContain("NextChapterSoftware");
    }
  });

  it("checkouts keep no credentials", () => {
    for (const path of Object.values(WORKFLOW_PATHS)) {
      const checkouts = allSteps(committedYaml(path)).filter((s) =>
        String(s.uses).startsWith("actions/checkout@"),
      );
      expect(checkouts.length).toBeGreaterThan(0);
      for (const step of checkouts) expect((step.with as Obj)["persist-credentials"]).toBe(false);
    }
  });
});

describe("the shared action", () => {
  const action = committedYaml(ACTION_PATH);
  const steps = allSteps(action);
  const byName = (fragment: string) => steps.find((s) => String(s.name).includes(fragment))!;

  it("passes secrets to the CLI through env only, never as flags", () => {
    const run = byName("Build, verify and publish");
    expect(run.run).toContain('--store "$STORE"');
    expect(Object.keys(run.env as Obj)).toEqual(
      expect.arrayContaining(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
    );
    for (const step of steps) {
      expect(String(step.run ?? "")).not.toMatch(/--(aws|secret|access-key|webhook)/i);
    }
  });

  it("uploads images and checksums at compression level 1, package lists at 9", () => {
    const level = (name: string) => (byName(name).with as Obj)["compression-level"] as number;
    expect(level("Store the image as")).toBe(1);
    expect(level("Store the checksum")).toBe(1);
    expect(level("Store the package list")).toBe(9);
  });

  it("keeps the upstream KVM udev rule and runner-OS specifics", () => {
    const text = committedText(ACTION_PATH);
    expect(text).toContain(`KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"`);
    expect(text).toContain("/usr/bin/qemu-system-$ARCH");
    expect(text).toContain("/usr/share/OVMF/OVMF_CODE_4M.fd");
    expect(text).toContain("/usr/share/OVMF/OVMF_VARS_4M.fd");
    expect(text).toContain("/usr/libexec/qemu-kvm");
  });

  it("runs Packer as the runner user, never through sudo", () => {
    const scripts = steps.map((s) => String(s.run ?? ""));
    expect(scripts.some((r) => r.includes("packer init"))).toBe(true);
    // sudo may install packages (apt-get install packer), never run Packer or the CLI.
    for (const r of scripts) expect(r).not.toMatch(/\bsudo\s+(-\S+\s+)*(\S*\/)?(packer|node)\b/);
    expect("sudo /usr/bin/packer build .").toMatch(/\bsudo\s+(-\S+\s+)*(\S*\/)?(packer|node)\b/);
  });

  it("checks the templates before Packer is installed or run", () => {
    const names = steps.map((s) => String(s.name));
    const check = names.findIndex((n) => n.includes("Check the Packer templates"));
    expect(check).toBeGreaterThan(-1);
    expect(check).toBeLessThan(names.findIndex((n) => n.includes("Install Packer")));
    expect(check).toBeLessThan(names.findIndex((n) => n.includes("Build, verify and publish")));
  });
});
