// file-integrity (--deep) against Debian's `rpm -Va --root` on a tree of rpmbuild'd packages, installed
// by rpm, then changed: content, size, missing files, a symlink's target, and changes rpm -V does not
// count here (%config, %ghost, %verify(not ...)). Our check reads the tree from a bare ext4 image of it.
import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../src/inspect/verdict.js";
import { verifyImage } from "../../src/inspect/verify.js";
import { policyFor } from "../../src/policy/builtin.js";
import { policyChecks } from "../../src/policy/run.js";
import { buildRpms, installRpms } from "../helpers/rpmbuild.js";

const isRoot = process.getuid?.() === 0;
let tmp: string;
let rpms: string[];

beforeAll(() => {
  if (!isRoot) return;
  tmp = mkdtempSync(join(tmpdir(), "policy-integrity-"));
  rpms = buildRpms({
    target: "x86_64",
    packages: [
      {
        name: "alpha",
        version: "1.0",
        release: "1.el9",
        files: {
          "/usr/bin/alpha": "#!/bin/sh\necho alpha\n",
          "/usr/share/alpha/data": "alpha data, more than a little\n".repeat(40),
          "/etc/alpha.conf": "setting=1\n",
          "/etc/alpha.d/site.conf": "site=1\n",
          "/var/lib/alpha/state": "initial\n",
          "/usr/share/doc/alpha/README": "read me\n",
        },
        symlinks: { "/usr/bin/alpha-link": "alpha" },
        ghosts: ["/var/log/alpha.log"],
        attrs: {
          "/etc/alpha.conf": "%config",
          "/etc/alpha.d/site.conf": "%config(noreplace)",
          "/var/lib/alpha/state": "%verify(not md5 size mtime)",
          "/usr/share/doc/alpha/README": "%doc",
        },
      },
      {
        name: "beta",
        version: "2.1",
        release: "3.el9",
        files: {
          "/usr/lib64/libbeta.so.1": "\x7fELF beta".repeat(500),
          "/usr/share/beta/keep": "unchanged\n",
        },
      },
    ],
  });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** What Debian's rpm -Va says is modified (size, digest, link target) or missing, but for %config and %ghost. */
function rpmVa(root: string): string[] {
  const r = spawnSync("rpm", ["--root", root, "--dbpath", "/var/lib/rpm", "-Va", "--nodeps", "--noscripts"], {
    encoding: "utf8",
  });
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^(missing|[.?SM5DLUGTP]{9})\s+([cdglr ])\s(\/.*)$/.exec(line);
    if (!m) continue;
    const [, flags, attr, path] = m;
    if (attr === "c" || attr === "g") continue;
    if (flags === "missing" || /[S5L]/.test(flags!)) out.push(path!);
  }
  return out.sort();
}

/** Our file-integrity check on a bare ext4 image of `root`. */
async function ours(root: string, name: string): Promise<CheckResult> {
  const img = join(tmp, `${name}.ext4`);
  execFileSync("mkfs.ext4", ["-q", "-F", "-d", root, img, "64M"]);
  const policy = policyFor(undefined, { name: "deep", doc: { policy: 1, checks: { "file-integrity": {} } } });
  const verdict = await verifyImage(
    img,
    { releaseString: "AlmaLinux release 9.6", arch: "x86_64" },
    {
      packagesOut: null,
      extraChecks: policyChecks(policy, { arch: "x86_64", kernel: "standard" }, { deep: true }),
    },
  );
  return verdict.checks.find((c) => c.name === "file-integrity")!;
}

const subjects = (c: CheckResult) => (c.found ?? "").split(", ").filter(Boolean).sort();

describe.skipIf(!isRoot)("file-integrity against rpm -Va --root", () => {
  it("passes on the tree as rpm installed it, where rpm -Va finds nothing", async () => {
    const root = installRpms(rpms, join(tmp, "clean"));
    expect(rpmVa(root)).toEqual([]);
    const c = await ours(root, "clean");
    expect(c.status).toBe("pass");
    expect(c.message).toMatch(/^\d+ files of 2 packages match the rpm database/);
  });

  it("names the same modified and missing files as rpm -Va, and not the %config, %ghost or %verify(not) ones", async () => {
    const root = installRpms(rpms, join(tmp, "changed"));
    const at = (p: string) => join(root, p);
    writeFileSync(at("/usr/bin/alpha"), "#!/bin/sh\necho ALPHA\n"); // same size, other content
    truncateSync(at("/usr/lib64/libbeta.so.1"), 100); // size
    unlinkSync(at("/usr/share/alpha/data")); // missing
    unlinkSync(at("/usr/bin/alpha-link"));
    symlinkSync("libbeta", at("/usr/bin/alpha-link")); // link target
    writeFileSync(at("/usr/share/doc/alpha/README"), "read me, edited\n"); // %doc still counts
    writeFileSync(at("/etc/alpha.conf"), "setting=2\n"); // %config: expected to change
    unlinkSync(at("/etc/alpha.d/site.conf"));
    writeFileSync(at("/var/lib/alpha/state"), "changed at run time\n"); // %verify(not md5 size mtime)
    mkdirSync(at("/var/log"), { recursive: true });
    writeFileSync(at("/var/log/alpha.log"), "a log\n"); // %ghost
    const expected = rpmVa(root);
    expect(expected).toEqual([
      "/usr/bin/alpha",
      "/usr/bin/alpha-link",
      "/usr/lib64/libbeta.so.1",
      "/usr/share/alpha/data",
      "/usr/share/doc/alpha/README",
    ]);
    const c = await ours(root, "changed");
    expect(c.status).toBe("fail");
    expect(subjects(c)).toEqual(expected);
    expect(c.message).toContain("/usr/share/alpha/data (alpha-1.0-1.el9.x86_64): missing");
    expect(c.message).toContain(
      "/usr/lib64/libbeta.so.1 (beta-2.1-3.el9.x86_64): size 100, the package has 4500",
    );
    expect(c.message).toContain(
      "/usr/bin/alpha (alpha-1.0-1.el9.x86_64): content differs from the package's digest",
    );
  });
});
