// The package check against dpkg itself (`dpkg -s` per package is the oracle).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DEMO_PACKAGES, installCommand, missingPackages } from "../../examples/demo/lib/packages.js";
import { missingTools } from "./helpers.js";

const skip = missingTools(["dpkg-query", "dpkg"]);

function installedPerDpkg(name: string): boolean {
  const r = spawnSync("dpkg", ["-s", name], { encoding: "utf8" });
  return r.status === 0 && /^Status: install ok installed$/m.test(r.stdout);
}

describe.skipIf(skip)(`demo package check${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("agrees with dpkg -s on every package the demo needs", () => {
    expect(missingPackages()).toEqual(DEMO_PACKAGES.filter((p) => !installedPerDpkg(p)));
  });

  it("reports unknown packages as missing, in the order asked", () => {
    const names = ["cloud-images-no-such-package-b", "dpkg", "cloud-images-no-such-package-a"];
    expect(missingPackages(names)).toEqual([
      "cloud-images-no-such-package-b",
      "cloud-images-no-such-package-a",
    ]);
  });
});

describe("demo install command", () => {
  it("waits for the apt lock and installs without recommends", () => {
    const cmd = installCommand(["packer", "cpio"]);
    expect(cmd.argv).toEqual([
      "apt-get",
      "-o",
      "DPkg::Lock::Timeout=600",
      "install",
      "-y",
      "--no-install-recommends",
      "packer",
      "cpio",
    ]);
    expect(cmd.line).toBe(
      "sudo apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends packer cpio",
    );
  });
});
