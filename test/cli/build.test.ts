/**
 * scripts/build.mjs replaces its own output in dist/ and nothing else there: dist/bucket is the default
 * file store (published images) and dist/release-keys the demo's public keys. Run in a scratch directory
 * that links to the sources, so the dist/ the other tests use is not rebuilt under them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "build-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it("keeps the file store and release keys in dist/ and removes stale build files", () => {
  for (const link of ["src", "package.json", "node_modules"])
    symlinkSync(join(REPO_ROOT, link), join(tmp, link));
  mkdirSync(join(tmp, "dist/bucket/images/9"), { recursive: true });
  mkdirSync(join(tmp, "dist/release-keys"), { recursive: true });
  mkdirSync(join(tmp, "dist/lazy"), { recursive: true });
  writeFileSync(join(tmp, "dist/bucket/images/9/image.qcow2"), "published");
  writeFileSync(join(tmp, "dist/release-keys/openpgp.pub.asc"), "key");
  for (const stale of ["chunk-OLD.js", "chunk-OLD.js.map", "cli-old.cjs", "lazy/cli-verify-old.js"])
    writeFileSync(join(tmp, "dist", stale), "");
  execFileSync(process.execPath, [join(REPO_ROOT, "scripts/build.mjs")], { cwd: tmp, stdio: "pipe" });
  expect(existsSync(join(tmp, "dist/bucket/images/9/image.qcow2"))).toBe(true);
  expect(existsSync(join(tmp, "dist/release-keys/openpgp.pub.asc"))).toBe(true);
  for (const stale of ["chunk-OLD.js", "chunk-OLD.js.map", "cli-old.cjs", "lazy/cli-verify-old.js"])
    expect(existsSync(join(tmp, "dist", stale)), stale).toBe(false);
  expect(existsSync(join(tmp, "dist/cli-verify.cjs"))).toBe(true);
  expect(existsSync(join(tmp, "dist/launch.cjs"))).toBe(true);
  expect(existsSync(join(tmp, "dist/policies"))).toBe(true);
});
