// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL expressions as hcl2json renders them (${…}), on purpose.
// `templates check` on hand-written HCL fixtures (test/data/templates/, see its README): the source
// names there are typed from the upstream templates' naming, so they check the resolver's names.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allLegs } from "../../src/catalog/catalog.js";
import { requireLeg } from "../../src/catalog/validate.js";
import { PackerTemplateError } from "../../src/errors.js";
import { resolveLeg } from "../../src/resolve/resolve.js";
import { checkTemplates } from "../../src/workflows/templates.js";
import { REPO_ROOT, runCli } from "../helpers/cli.js";

const DATA = join(REPO_ROOT, "test/data/templates");

/** The leg's output mask, from the resolver (the names themselves are checked in resolve.test.ts). */
function resolvedMask(spec: string): string {
  const [type, variant, arch] = spec.split(":") as [string, string, string];
  return resolveLeg(requireLeg(type, variant, arch), "9.6", "20260102030405").outputMask;
}
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

interface JsonReport {
  ok: boolean;
  legs: {
    leg: string;
    packerSource: string;
    state: string;
    file: string | null;
    output: { path: string; format: string; open: string[] } | null;
    problems: string[];
  }[];
  orphans: string[];
  undefinedReferences: string[];
  files: string[];
}

async function check(dir: string, ...args: string[]) {
  const r = await runCli(["templates", "check", "--dir", dir, "--json", ...args]);
  return { ...r, report: r.stdout ? (JSON.parse(r.stdout) as JsonReport) : undefined };
}

describe("templates check", () => {
  it("finds every catalog leg in the complete fixture and lists the orphan sources", async () => {
    const r = await check(join(DATA, "complete"));
    expect(r.code).toBe(0);
    const report = r.report!;
    expect(report.ok).toBe(true);
    expect(report.legs).toHaveLength(46);
    expect(report.legs.length).toBe(allLegs().length);
    expect(report.legs.filter((l) => l.state !== "ok")).toEqual([]);
    expect(report.orphans).toEqual([
      "amazon-ebs.almalinux-9-ami-x86_64",
      "qemu.almalinux-8-gencloud-ppc64le",
      "qemu.almalinux-9-gencloud-ppc64le",
      "qemu.almalinux-9-gencloud-s390x",
      "qemu.almalinux_10_gencloud_ppc64le",
    ]);
    expect(report.undefinedReferences).toEqual([]);
    expect(report.files).toEqual([
      "ami.pkr.hcl",
      "azure.pkr.hcl",
      "gencloud.pkr.hcl",
      "gencloud_ext4.pkr.hcl",
      "oci.pkr.hcl",
      "opennebula.pkr.hcl",
      "variables.pkr.hcl",
    ]);
    const find = (leg: string) => report.legs.find((l) => l.leg === leg)!;
    expect(find("azure:10-kitten-64k:aarch64")).toMatchObject({
      packerSource: "qemu.almalinux_kitten_10_azure_aarch64_64k",
      file: "azure.pkr.hcl",
    });
    // Listed only through a `source "source.qemu.NAME" {}` block inside build.
    expect(find("opennebula:10-kitten:aarch64").state).toBe("ok");
    // Every image name is worked out whole (variables at their defaults, the date at the sample time).
    expect(report.legs.filter((l) => l.output?.open.length !== 0)).toEqual([]);
    expect(find("azure:9-64k:aarch64").output).toEqual({
      path: "output-almalinux_9_azure_64k_aarch64/AlmaLinux-Azure-9.6-202601020-64k.aarch64.raw",
      format: "raw",
      open: [],
    });
    expect(find("gencloud:10-kitten-v2:x86_64").output!.path).toBe(
      "output-almalinux_kitten_10_gencloud_x86_64_v2/AlmaLinux-Kitten-GenericCloud-10-20260102.0.x86_64_v2.qcow2",
    );
    expect(find("oci:8:aarch64").output).toMatchObject({
      path: "output-almalinux-8-oci-aarch64/AlmaLinux-8-OCI-8.10-20260102.aarch64.qcow2",
      format: "qcow2", // Packer's default: the OCI sources do not say
    });
  });

  it("exits 1 when a built source writes an image its leg would not find", async () => {
    const r = await check(join(DATA, "misnamed"));
    expect(r.code).toBe(1);
    const found = Object.fromEntries(
      r
        .report!.legs.filter((l) => l.state !== "missing")
        .map((l) => [l.leg, [l.state, l.output, l.problems]]),
    );
    const mask = (leg: string) => resolvedMask(leg);
    expect(found).toEqual({
      "azure:9:x86_64": [
        "mismatch",
        {
          path: "output-almalinux-9-azure-x86_64/AlmaLinux-9-Azure-9.6-20260102.x86_64.raw",
          format: "qcow2",
          open: [],
        },
        ["writes format qcow2, the leg expects raw"],
      ],
      "azure:10-kitten:x86_64": [
        "ok",
        {
          path: "output-almalinux_kitten_10_azure_x86_64/AlmaLinux-Kitten-Azure-10-20260102030405.x86_64.raw",
          format: "raw",
          open: [],
        },
        [],
      ],
      "gencloud:9:x86_64": [
        "mismatch",
        {
          path: "output-almalinux-9-gencloud-x86_64/packer-almalinux-9-gencloud-x86_64",
          format: "qcow2",
          open: [],
        },
        [
          `writes output-almalinux-9-gencloud-x86_64/packer-almalinux-9-gencloud-x86_64, which the output mask ${mask("gencloud:9:x86_64")} cannot match`,
        ],
      ],
      "gencloud:10:x86_64": [
        "ok",
        {
          path: "output-almalinux_10_gencloud_x86_64/AlmaLinux-10-GenericCloud-${upper(var.flavor)}-10.1.x86_64.qcow2",
          format: "qcow2",
          open: ["${upper(var.flavor)}"],
        },
        [],
      ],
      "gencloud:9:aarch64": [
        "mismatch",
        {
          path: "output-almalinux-9-gencloud-aarch64/AlmaLinux-9-GenericCloud-9.6-20260102.x86_64.qcow2",
          format: "qcow2",
          open: [],
        },
        [
          `writes output-almalinux-9-gencloud-aarch64/AlmaLinux-9-GenericCloud-9.6-20260102.x86_64.qcow2, which the output mask ${mask("gencloud:9:aarch64")} cannot match`,
        ],
      ],
      // image_arch is x86_64 from oci.auto.pkrvars.hcl, not its default aarch64
      "oci:9:x86_64": [
        "ok",
        {
          path: "output-almalinux-9-oci-x86_64/AlmaLinux-9-OCI-9.6-20260102030405.x86_64.qcow2",
          format: "qcow2",
          open: [],
        },
        [],
      ],
      "oci:9:aarch64": [
        "mismatch",
        expect.anything(),
        [expect.stringContaining("OCI-9.6-20260102030405.x86_64.qcow2")],
      ],
      "opennebula:10-v2:x86_64": [
        "mismatch",
        expect.objectContaining({
          path: "images/AlmaLinux-10-OpenNebula-10.1-20260102030405.x86_64_v2.qcow2",
        }),
        [expect.stringMatching(/^writes images\/AlmaLinux-10-OpenNebula-.* cannot match$/)],
      ],
    });
  });

  it("names each misnamed image on its own line for people", async () => {
    const r = await runCli([
      "templates",
      "check",
      "--dir",
      join(DATA, "misnamed"),
      "--leg",
      "azure:9:x86_64",
    ]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[1]).toMatch(
      /^azure:9:x86_64\s+qemu\.almalinux-9-azure-x86_64\s+mismatch\s+names\.pkr\.hcl$/,
    );
    expect(lines.slice(-2)).toEqual([
      "images the templates would write where the leg does not look for them:",
      "  azure:9:x86_64: writes format qcow2, the leg expects raw",
    ]);
  });

  it("prints a table for people", async () => {
    const r = await runCli([
      "templates",
      "check",
      "--dir",
      join(DATA, "complete"),
      "--leg",
      "gencloud_ext4:8:aarch64",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[1]).toMatch(
      /^gencloud_ext4:8:aarch64\s+qemu\.almalinux-8-gencloud-ext4-aarch64\s+ok\s+gencloud_ext4\.pkr\.hcl$/,
    );
  });

  it("exits 1 when a leg's source block is missing", async () => {
    const dir = join(DATA, "missing");
    const one = await check(dir, "--leg", "oci:9:aarch64");
    expect(one.code).toBe(1);
    expect(one.report!.legs).toEqual([
      {
        leg: "oci:9:aarch64",
        type: "oci",
        variant: "9",
        arch: "aarch64",
        packerSource: "qemu.almalinux-9-oci-aarch64",
        state: "missing",
        file: null,
        output: null,
        problems: [],
      },
    ]);
    expect(one.report!.undefinedReferences).toEqual(["qemu.almalinux-9-oci-aarch64"]);
    const all = await checkTemplates(dir);
    expect(all.ok).toBe(false);
    expect(all.legs.filter((l) => l.state === "ok").map((l) => l.packerSource)).toEqual([
      "qemu.almalinux-9-oci-x86_64",
    ]);
  });

  it("exits 1 when a leg's source is defined but in no build block", async () => {
    const dir = join(DATA, "not-built");
    const r = await check(dir, "--leg", "gencloud:9:aarch64");
    expect(r.code).toBe(1);
    expect(r.report!.legs[0]).toMatchObject({ state: "not-built", file: "gencloud.pkr.hcl" });
  });

  it("exits 2 with one line naming the file on a syntax error", async () => {
    const dir = join(DATA, "syntax-error");
    const r = await runCli(["templates", "check", "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cloud-images: error: .*syntax-error\/broken\.pkr\.hcl: syntax error at line \d+, column \d+: /,
    );
  });

  it("exits 2 on bad input: no templates, a leg not in the catalog, a malformed leg", async () => {
    const empty = mkdtempSync(join(tmpdir(), "ci-templates-"));
    temps.push(empty);
    writeFileSync(join(empty, "notes.txt"), "not a template\n");
    const none = await runCli(["templates", "check", "--dir", empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no *.pkr.hcl files in");
    const leg = await runCli([
      "templates",
      "check",
      "--dir",
      join(DATA, "complete"),
      "--leg",
      "azure:8:aarch64",
    ]);
    expect(leg.code).toBe(2);
    expect(leg.stderr).toContain("is not a leg in the catalog");
    const malformed = await runCli([
      "templates",
      "check",
      "--dir",
      join(DATA, "complete"),
      "--leg",
      "azure-8",
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("TYPE:VARIANT:ARCH");
  });
});

describe("checkTemplates (library)", () => {
  it("checks the given legs only", async () => {
    const report = await checkTemplates(join(DATA, "not-built"), [
      { type: "gencloud", variant: "9", arch: "x86_64" },
    ]);
    expect(report.ok).toBe(true);
    expect(report.legs.map((l) => l.state)).toEqual(["ok"]);
  });

  it("names a missing directory", async () => {
    await expect(checkTemplates(join(DATA, "no-such-dir"))).rejects.toThrow(
      /templates directory .* does not exist/,
    );
  });

  it("builds a renamed source under its new name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ci-templates-"));
    temps.push(dir);
    cpSync(join(DATA, "not-built"), dir, { recursive: true });
    writeFileSync(
      join(dir, "rename.pkr.hcl"),
      'source "qemu" "base" {\n  cpus = 1\n}\n\nbuild {\n  source "source.qemu.base" {\n    name = "almalinux-9-gencloud-aarch64-renamed"\n  }\n}\n',
    );
    const report = await checkTemplates(dir, [{ type: "gencloud", variant: "9", arch: "aarch64" }]);
    expect(report.legs[0]!.state).toBe("not-built");
    expect(report.orphans).toContain("qemu.base");
  });

  it("throws PackerTemplateError (exit 2) for unparsable templates", async () => {
    await expect(checkTemplates(join(DATA, "syntax-error"))).rejects.toBeInstanceOf(PackerTemplateError);
    await expect(checkTemplates(join(DATA, "syntax-error"))).rejects.toMatchObject({ exitCode: 2 });
  });
});
