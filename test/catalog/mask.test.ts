// Output masks: matching a known path (as locate expands them) and overlapping a partly known one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandMask } from "../../src/pipeline/glob.js";
import { maskOverlaps } from "../../src/resolve/mask.js";

const work = mkdtempSync(join(tmpdir(), "mask-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("maskOverlaps", () => {
  const mask = "output-almalinux_10_gencloud_x86_64/AlmaLinux-*.x86_64*.qcow2";
  const paths = [
    "output-almalinux_10_gencloud_x86_64/AlmaLinux-10-GenericCloud-10.1-20260102.0.x86_64.qcow2",
    "output-almalinux_10_gencloud_x86_64/AlmaLinux-10-GenericCloud-10.1-20260102.0.x86_64_v2.qcow2",
    "output-almalinux_10_gencloud_x86_64/AlmaLinux-.x86_64.qcow2",
    "output-almalinux_10_gencloud_x86_64/AlmaLinux-10.aarch64.qcow2",
    "output-almalinux_10_gencloud_x86_64/AlmaLinux-10.x86_64.raw",
    "output-almalinux_10_gencloud_x86_64/packer-almalinux_10_gencloud_x86_64",
    "output-almalinux_10_gencloud_x86_64/.AlmaLinux-10.x86_64.qcow2",
    "output-other/AlmaLinux-10.x86_64.qcow2",
  ];

  it("on a known path, agrees with what locate's expansion finds", async () => {
    for (const p of paths) {
      mkdirSync(join(work, p, ".."), { recursive: true });
      writeFileSync(join(work, p), "");
    }
    const found = await expandMask(work, mask);
    expect(found).toEqual(paths.slice(0, 3).sort());
    expect(paths.filter((p) => maskOverlaps(mask, p))).toEqual(paths.slice(0, 3));
    expect(maskOverlaps(mask, `${paths[0]}/extra`)).toBe(false);
  });

  it("with unknown parts, is false only where no value could fit", () => {
    const dir = "output-almalinux_10_gencloud_x86_64";
    expect(maskOverlaps(mask, `${dir}/AlmaLinux-10-GenericCloud-*.x86_64.qcow2`)).toBe(true);
    expect(maskOverlaps(mask, `${dir}/*`)).toBe(true);
    expect(maskOverlaps(mask, `${dir}/AlmaLinux-*-?.qcow2`)).toBe(true);
    // an unknown part can hold ".x86_64" itself: AlmaLinux-.x86_64.aarch64.qcow2 fits both
    expect(maskOverlaps(mask, `${dir}/AlmaLinux-*.aarch64.qcow2`)).toBe(true);
    expect(maskOverlaps("o/AlmaLinux-9-*.x86_64.qcow2", "o/AlmaLinux-9-*.aarch64.qcow2")).toBe(false);
    expect(maskOverlaps(mask, `${dir}/AlmaLinux-*.x86_64.raw`)).toBe(false);
    expect(maskOverlaps(mask, `${dir}/Alma-*.x86_64.qcow2`)).toBe(false);
    expect(maskOverlaps(mask, "output-*/AlmaLinux-1.x86_64.qcow2")).toBe(true);
    expect(maskOverlaps(mask, "*/*/AlmaLinux-1.x86_64.qcow2")).toBe(false);
    expect(maskOverlaps("a/x?z", "a/x*")).toBe(true);
    expect(maskOverlaps("a/x?z", "a/xz")).toBe(false);
    expect(maskOverlaps("a/*b*c", "a/*c*b")).toBe(false);
    expect(maskOverlaps("a/*b*c", "a/*c*b*")).toBe(true);
  });
});
