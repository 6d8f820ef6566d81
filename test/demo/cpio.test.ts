// The initramfs archive writer against GNU cpio: its listing and what it extracts.
import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CpioEntry, writeCpio } from "../fixtures/busybox-leg/lib/cpio.js";
import { isRoot, missingTools } from "./helpers.js";

const skip = missingTools(["cpio"]);
const tmp = mkdtempSync(join(tmpdir(), "demo-cpio-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Name and data lengths 0..6 cover every padding case of the 110-byte header and of the data.
const entries: CpioEntry[] = [
  { kind: "dir", path: "d" },
  { kind: "dir", path: "/dd/", mode: 0o700 },
  { kind: "dir", path: "tmp", mode: 0o1777 },
  ...[0, 1, 2, 3, 4, 5, 6].map(
    (n): CpioEntry => ({
      kind: "file",
      path: `d/${"f".repeat(n + 1)}`,
      data: Buffer.from("0123456".slice(0, n)),
      mode: n % 2 ? 0o755 : 0o644,
    }),
  ),
  { kind: "file", path: "dd/bin", data: Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]) },
  { kind: "symlink", path: "d/link", target: "../dd/bin" },
  { kind: "chardev", path: "console", major: 5, minor: 1 },
  { kind: "file", path: "d/ünïcode", data: Buffer.from("é\n") },
];

function cpio(args: string[], archive: Buffer, cwd = tmp): string {
  return execFileSync("cpio", args, {
    input: archive,
    cwd,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}

describe.skipIf(skip)(`cpio newc writer${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const archive = writeCpio(entries);

  it("lists every entry with its type, mode, owner and device numbers", () => {
    const listing = cpio(["-itv", "--quiet"], archive).trim().split("\n");
    const expected = [
      /^drwxr-xr-x\s+2 root\s+root\s+0 .* d$/,
      /^drwx------\s+2 root\s+root\s+0 .* dd$/,
      /^drwxrwxrwt\s+2 root\s+root\s+0 .* tmp$/,
      ...[0, 1, 2, 3, 4, 5, 6].map(
        (n) =>
          new RegExp(
            `^-${n % 2 ? "rwxr-xr-x" : "rw-r--r--"}\\s+1 root\\s+root\\s+${n} .* d/${"f".repeat(n + 1)}$`,
          ),
      ),
      /^-rw-r--r--\s+1 root\s+root\s+8 .* dd\/bin$/,
      /^lrwxrwxrwx\s+1 root\s+root\s+9 .* d\/link -> \.\.\/dd\/bin$/,
      /^crw-------\s+1 root\s+root\s+5,\s+1 .* console$/,
      /^-rw-r--r--\s+1 root\s+root\s+3 .* d\/ünïcode$/,
    ];
    expect(listing).toHaveLength(expected.length);
    listing.forEach((line, i) => {
      expect(line).toMatch(expected[i]!);
    });
  });

  it("extracts byte-identical files and symlinks", () => {
    const out = mkdtempSync(join(tmp, "x-"));
    const withoutDevice = writeCpio(entries.filter((e) => e.kind !== "chardev"));
    cpio(["-idm", "--quiet", "--no-absolute-filenames"], withoutDevice, out);
    for (const e of entries) {
      if (e.kind === "file") expect(readFileSync(join(out, e.path))).toEqual(e.data);
      if (e.kind === "symlink") expect(readlinkSync(join(out, e.path))).toBe(e.target);
    }
  });

  it.skipIf(!isRoot())("extracts the console device node (root only)", () => {
    const out = mkdtempSync(join(tmp, "dev-"));
    cpio(["-idm", "--quiet", "--no-absolute-filenames"], writeCpio(entries.slice(-2, -1)), out);
    const st = lstatSync(join(out, "console"));
    expect(st.isCharacterDevice()).toBe(true);
    expect([Math.floor(st.rdev / 256), st.rdev % 256]).toEqual([5, 1]);
  });

  it("is the same bytes for the same entries (no times or owners from the host)", () => {
    expect(writeCpio(entries).equals(archive)).toBe(true);
  });

  it("ends with the TRAILER!!! record and a 4-byte aligned length", () => {
    writeFileSync(join(tmp, "a.cpio"), archive);
    expect(archive.length % 4).toBe(0);
    expect(archive.subarray(-16).toString("latin1")).toContain("TRAILER!!!");
  });
});
