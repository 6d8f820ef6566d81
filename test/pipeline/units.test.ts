import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256File } from "../../src/files.js";
import { expandMask } from "../../src/pipeline/glob.js";
import {
  detectRunnerOs,
  findExecutable,
  packerSupportsInit,
  packerVarsFor,
} from "../../src/pipeline/host.js";
import { formatSha256sumLine } from "../../src/publish/sha256sum.js";

const dir = mkdtempSync(join(tmpdir(), "pipeline-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("output masks", () => {
  it("expand like the shell's glob, relative to the templates directory", async () => {
    const out = join(dir, "masks", "output-almalinux_10_gencloud_x86_64_v2");
    mkdirSync(out, { recursive: true });
    for (const f of [
      "AlmaLinux-10-GenericCloud-10.1-20260220.x86_64_v2.qcow2",
      "AlmaLinux-x.x86_64.raw",
      ".AlmaLinux-hidden.x86_64.qcow2",
      "packer.log",
    ]) {
      writeFileSync(join(out, f), "");
    }
    const root = join(dir, "masks");
    const mask = "output-almalinux_10_gencloud_x86_64_v2/AlmaLinux-*.x86_64*.qcow2";
    const ours = await expandMask(root, mask);
    // The oracle: bash's own glob expansion of the same mask.
    const bash = execFileSync("bash", ["-c", `shopt -s nullglob; for f in ${mask}; do echo "$f"; done`], {
      cwd: root,
      encoding: "utf8",
    });
    expect(ours).toEqual(bash.trim().split("\n"));
    expect(ours).toEqual([
      "output-almalinux_10_gencloud_x86_64_v2/AlmaLinux-10-GenericCloud-10.1-20260220.x86_64_v2.qcow2",
    ]);
    expect(await expandMask(root, "output-missing/AlmaLinux-*.qcow2")).toEqual([]);
    expect(await expandMask(root, "output-almalinux_10_gencloud_x86_64_v2/AlmaLinux-[0-9]*.qcow2")).toEqual(
      [],
    );
  });
});

describe("the runner machine", () => {
  const root = (files: Record<string, string>) => {
    const r = mkdtempSync(join(dir, "root-"));
    mkdirSync(join(r, "etc"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(r, "etc", name), text);
    return r;
  };

  it("is RHEL-family when /etc/redhat-release exists (the seed's test), Ubuntu/Debian by os-release", async () => {
    expect(
      await detectRunnerOs(
        root({ "redhat-release": "AlmaLinux release 9.6\n", "os-release": "ID=almalinux\n" }),
      ),
    ).toBe("rhel");
    expect(
      await detectRunnerOs(root({ "os-release": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n' })),
    ).toBe("ubuntu");
    expect(await detectRunnerOs(root({ "os-release": "ID=debian\n" }))).toBe("ubuntu");
    expect(await detectRunnerOs(root({ "os-release": "ID=arch\n" }))).toBe("unknown");
    expect(await detectRunnerOs(root({}))).toBe("unknown");
  });

  it("Packer variables are the seed's per runner OS", () => {
    expect(packerVarsFor("ubuntu", "aarch64")).toEqual({
      qemu_binary: "/usr/bin/qemu-system-aarch64",
      ovmf_code: "/usr/share/OVMF/OVMF_CODE_4M.fd",
      ovmf_vars: "/usr/share/OVMF/OVMF_VARS_4M.fd",
    });
    expect(packerVarsFor("rhel", "x86_64")).toEqual({ qemu_binary: "/usr/libexec/qemu-kvm" });
  });

  it("packer init exists from 1.7.0", () => {
    expect(packerSupportsInit("1.6.6")).toBe(false);
    expect(packerSupportsInit("1.7.0")).toBe(true);
    expect(packerSupportsInit("1.11.2")).toBe(true);
    expect(packerSupportsInit("2.0.0")).toBe(true);
  });

  it("finds executables on PATH", async () => {
    expect(await findExecutable("sh", "/nonexistent:/bin:/usr/bin")).toMatch(/\/sh$/);
    expect(await findExecutable("no-such-tool-here", "/bin:/usr/bin")).toBeUndefined();
  });
});

describe("checksums", () => {
  it("match coreutils sha256sum, in its format", async () => {
    const file = join(dir, "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2");
    writeFileSync(file, Buffer.alloc(5 * 1024 * 1024 + 17, 0x5a));
    const hex = await sha256File(file);
    const coreutils = execFileSync("sha256sum", ["AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(formatSha256sumLine(hex, "AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2")).toBe(coreutils);
  });
});
