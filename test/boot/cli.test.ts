// `cloud-images boot-test` bad input: one line naming what is wrong and how to fix it, exit 2, nothing
// started (no QEMU, no work directory left).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { which } from "../../imagegen/exec.js";
import { type BuiltImage, buildImage } from "../../imagegen/index.js";
import { isRoot, processesMentioning } from "../demo/helpers.js";
import { runCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "boot-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const LEG = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];

function lines(stderr: string): string[] {
  return stderr.trim().split("\n").filter(Boolean);
}

describe("boot-test: help and bad input", () => {
  let image: BuiltImage | undefined;
  beforeAll(async () => {
    if (isRoot())
      image = await buildImage({
        arch: "x86_64",
        el: "9",
        release: "9.6",
        rootfs: "xfs",
        formats: ["qcow2"],
        diskSize: "3G",
      });
  }, 600_000);

  it("explains itself with examples", async () => {
    const r = await runCli(["boot-test", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--disk-size <SIZE>/);
    expect(r.stdout).toMatch(/Examples:\n\s+cloud-images boot-test /);
  });

  const bad: [string, (img: string) => string[], RegExp][] = [
    [
      "not a disk image",
      () => {
        const f = join(tmp, "notes.txt");
        writeFileSync(f, "hello\n".repeat(1000));
        return ["boot-test", f, ...LEG];
      },
      /notes\.txt is not a disk image/,
    ],
    ["a missing image", () => ["boot-test", join(tmp, "nope.qcow2"), ...LEG], /nope\.qcow2 does not exist/],
    [
      "a leg not in the catalog",
      (img) => ["boot-test", img, "--type", "oci", "--variant", "10-kitten", "--arch", "x86_64"],
      /oci/,
    ],
    [
      "a disk size below the image's",
      (img) => ["boot-test", img, ...LEG, "--disk-size", "1G"],
      /--disk-size 1 GiB is smaller than the image \(3 GiB/,
    ],
    [
      "a malformed disk size",
      (img) => ["boot-test", img, ...LEG, "--disk-size", "lots"],
      /invalid disk size "lots"/,
    ],
    [
      "no such QEMU",
      (img) => ["boot-test", img, ...LEG, "--qemu", "/nonexistent/qemu-system-x86_64"],
      /qemu-system-x86_64 is not installed \(install it: apt-get install qemu-system-x86\)/,
    ],
    [
      "no such firmware",
      (img) => [
        "boot-test",
        img,
        ...LEG,
        "--firmware-code",
        "/nonexistent/OVMF_CODE.fd",
        "--firmware-vars",
        "/nonexistent/OVMF_VARS.fd",
      ],
      /firmware file \/nonexistent\/OVMF_CODE\.fd cannot be read/,
    ],
    [
      "BIOS for aarch64",
      (img) => [
        "boot-test",
        img,
        "--type",
        "gencloud",
        "--variant",
        "9",
        "--arch",
        "aarch64",
        "--release",
        "9.6",
        "--firmware",
        "bios",
      ],
      /--firmware bios is for x86_64 legs/,
    ],
    ["a bad --boots", (img) => ["boot-test", img, ...LEG, "--boots", "0"], /invalid --boots 0/],
  ];
  it.each(bad)("refuses %s with one line and exit 2", async (_what, args, message) => {
    const img = image?.paths.qcow2 ?? join(tmp, "missing.qcow2");
    if (!image && !/missing image|not a disk/.test(_what)) return; // needs the generated image (root)
    const work = join(tmp, `work-${_what.replace(/\W+/g, "-")}`);
    mkdirSync(work, { recursive: true });
    const r = await runCli(args(img), { env: { TMPDIR: work } });
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
    expect(readdirSync(work)).toEqual([]);
    expect(processesMentioning(work)).toEqual([]);
  });

  it.skipIf(!isRoot())("names the package when ssh is missing", async () => {
    // a PATH with everything but ssh
    const bin = join(tmp, "bin");
    mkdirSync(bin, { recursive: true });
    for (const tool of ["qemu-system-x86_64", "qemu-img", "ssh-keygen"]) {
      const path = which(tool);
      if (path) symlinkSync(path, join(bin, tool));
    }
    const r = await runCli(["boot-test", image!.paths.qcow2!, ...LEG], { env: { PATH: bin } });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/ssh is not installed \(install it: apt-get install openssh-client\)/),
    ]);
  });
});
