/**
 * Output written through symlinks: the link stays a link and its target gets the data (with its mode);
 * a dangling link creates its target; a FIFO or /dev/stdout is written in place (never replaced by a
 * regular file); a FIFO without a reader, a directory and a block device are refused at once. The
 * /dev/stdout case runs in a private mount namespace with its own /dev, so a bug cannot touch the host's.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { OutputFileError } from "../../src/errors.js";
import { checkOutputLocation, writeFileAtomic } from "../../src/files.js";
import { CLI, runCli } from "../helpers/cli.js";
import { expectedListFile, image } from "../inspect/images.js";

const dir = mkdtempSync(join(tmpdir(), "files-writers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
let n = 0;
const fresh = () => {
  const d = join(dir, `case-${n++}`);
  mkdirSync(d);
  return d;
};

describe("writeFileAtomic", () => {
  it("writes a symlink's target, keeping the link and the target's permissions", async () => {
    const d = fresh();
    writeFileSync(join(d, "real.txt"), "old\n");
    chmodSync(join(d, "real.txt"), 0o600);
    symlinkSync("real.txt", join(d, "link.txt"));
    symlinkSync(join(d, "link.txt"), join(d, "link2.txt")); // a chain, absolute then relative
    await writeFileAtomic(join(d, "link2.txt"), "new\n");
    expect(lstatSync(join(d, "link2.txt")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(d, "link.txt")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, "real.txt"), "utf8")).toBe("new\n");
    expect(statSync(join(d, "real.txt")).mode & 0o777).toBe(0o600);
  });

  it("creates the target of a dangling link", async () => {
    const d = fresh();
    mkdirSync(join(d, "sub"));
    symlinkSync("sub/made.txt", join(d, "out.txt"));
    await writeFileAtomic(join(d, "out.txt"), "made\n");
    expect(readlinkSync(join(d, "out.txt"))).toBe("sub/made.txt");
    expect(readFileSync(join(d, "sub/made.txt"), "utf8")).toBe("made\n");
  });

  it("writes into a FIFO that has a reader, and refuses one without a reader instead of hanging", async () => {
    const d = fresh();
    const fifo = join(d, "pipe");
    spawnSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "inherit"] });
    let got = "";
    reader.stdout.on("data", (c) => (got += c));
    const closed = new Promise((r) => reader.once("close", r));
    await new Promise((r) => setTimeout(r, 300)); // cat has opened the FIFO
    await writeFileAtomic(fifo, "through the pipe\n");
    await closed;
    expect(got).toBe("through the pipe\n");
    expect(lstatSync(fifo).isFIFO()).toBe(true);

    const started = Date.now();
    await expect(writeFileAtomic(fifo, "nobody reads\n")).rejects.toThrow(
      `cannot write ${fifo}: a FIFO with no reader`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("refuses a directory and a block device", async () => {
    const d = fresh();
    await expect(writeFileAtomic(d, "x")).rejects.toThrow(`cannot write ${d}: it is a directory`);
    if (!isRoot) return;
    const node = join(d, "blk");
    spawnSync("mknod", [node, "b", "7", "250"]);
    symlinkSync(node, join(d, "blk-link"));
    await expect(writeFileAtomic(join(d, "blk-link"), "x")).rejects.toThrow(
      `cannot write ${join(d, "blk-link")}: it is a block device`,
    );
    expect(lstatSync(node).isBlockDevice()).toBe(true);
  });
});

describe("output locations", () => {
  const failure = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(OutputFileError);
    return e as OutputFileError;
  };

  it("a location that cannot take a file is bad input (exit 2), found before the work by checkOutputLocation", async () => {
    const d = fresh();
    const missing = join(d, "no-such-folder", "out.json");
    writeFileSync(join(d, "file"), "x");
    for (const path of [missing, d, join(d, "file", "out.json")]) {
      const early = await failure(checkOutputLocation(path));
      expect(early.exitCode, early.message).toBe(2);
      expect(early.message).toMatch(new RegExp(`^cannot write ${path}: `));
      const late = await failure(writeFileAtomic(path, "x"));
      expect(late.exitCode, late.message).toBe(2);
    }
    expect((await failure(checkOutputLocation(missing))).message).toBe(
      `cannot write ${missing}: no such file (${join(d, "no-such-folder")})`,
    );
    await checkOutputLocation(join(d, "new.json"));
    await checkOutputLocation(join(d, "file"));
  });

  it.skipIf(!isRoot)("a read-only folder is exit 2, a full disk exit 1", async () => {
    const d = fresh();
    const ro = join(d, "ro");
    const small = join(d, "small");
    mkdirSync(ro);
    mkdirSync(small);
    spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro]);
    spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]);
    try {
      const readOnly = await failure(checkOutputLocation(join(ro, "out.json")));
      expect(readOnly.exitCode, readOnly.message).toBe(2);
      await checkOutputLocation(join(small, "out.json"));
      const full = await failure(writeFileAtomic(join(small, "out.json"), Buffer.alloc(1 << 20)));
      expect(full.message).toMatch(/ENOSPC/);
      expect(full.exitCode).toBe(1);
    } finally {
      spawnSync("umount", [ro]);
      spawnSync("umount", [small]);
    }
  });
});

describe("the CLI's writers", () => {
  let al9: BuiltImage;
  beforeAll(async () => {
    al9 = await image("al9");
  });
  const EXPECT = ["--type", "gencloud", "--variant", "9", "--arch", "x86_64", "--release", "9.6"];

  it("verify --packages-out and sbom --out through a symlink write its target", async () => {
    const d = fresh();
    writeFileSync(join(d, "list.txt"), "");
    symlinkSync("list.txt", join(d, "packages"));
    symlinkSync("missing.json", join(d, "sbom"));
    let r = await runCli(["verify", al9.paths.qcow2!, ...EXPECT, "--packages-out", join(d, "packages")]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(d, "packages")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, "list.txt"), "utf8")).toBe(expectedListFile(al9));
    r = await runCli(["sbom", al9.paths.qcow2!, "--out", join(d, "sbom")]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(d, "sbom")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(d, "missing.json"), "utf8")).bomFormat).toBe("CycloneDX");
  });

  it.skipIf(!isRoot || spawnSync("unshare", ["--mount", "true"]).status !== 0)(
    "verify --packages-out /dev/stdout writes to stdout and leaves /dev/stdout a symlink (private /dev)",
    async () => {
      // A private mount namespace with a fresh /dev holding only null and the stdout link.
      const script = [
        "set -e",
        "mount -t tmpfs none /dev",
        "mknod -m 666 /dev/null c 1 3",
        "ln -s /proc/self/fd/1 /dev/stdout",
        `"${process.execPath}" "${CLI}" verify "$1" ${EXPECT.join(" ")} --packages-out /dev/stdout --json > "$2"`,
        'if [ -L /dev/stdout ]; then echo "/dev/stdout is still a symlink"; else echo "/dev/stdout was replaced"; fi',
      ].join("\n");
      const d = fresh();
      const out = join(d, "stdout.txt");
      const r = spawnSync(
        "unshare",
        ["--mount", "--propagation", "private", "sh", "-c", script, "sh", al9.paths.qcow2!, out],
        {
          encoding: "utf8",
        },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe("/dev/stdout is still a symlink\n");
      // The package list went to stdout (the file the shell redirected it to), then the verdict JSON.
      const written = readFileSync(out, "utf8");
      expect(written.startsWith(expectedListFile(al9))).toBe(true);
      expect(JSON.parse(written.slice(expectedListFile(al9).length)).passed).toBe(true);
    },
  );
});
