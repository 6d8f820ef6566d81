// `inspect`, `ls` and `cat` through the real CLI on generated images, against sgdisk, blkid, debugfs,
// xfs_db, sh(1) and the bytes that went in.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { blkid } from "../helpers/blkid.js";
import { runCli } from "../helpers/cli.js";
import { extractRange, sgdiskPartitions, xfsReadFile } from "../imagegen/oracles.js";
import { image, removeDir, tempDir } from "./images.js";

let tmp: string;
let al9: BuiltImage;
let al8: BuiltImage;
let bare: BuiltImage;

beforeAll(async () => {
  tmp = tempDir("cli");
  [al9, al8, bare] = await Promise.all([image("al9"), image("al8"), image("bare")]);
});

afterAll(() => removeDir(tmp));

/** os-release fields as sh(1) reads them (it is a shell-compatible file). */
function shellFields(content: string, keys: readonly string[]): Record<string, string> {
  const file = join(tmp, `os-release-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, content);
  const out = execFileSync(
    "sh",
    ["-c", `. "$1"; ${keys.map((k) => `printf '%s\\n' "$${k}"`).join("; ")}`, "sh", file],
    {
      encoding: "utf8",
    },
  );
  const values = out.split("\n");
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

/** blkid's view of the filesystem at a byte offset of a raw disk. */
function debugfs(img: string, request: string): string {
  return execFileSync("debugfs", ["-R", request, img], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
}

describe("inspect", () => {
  it("--json: container, partitions as sgdisk and blkid see them, the root, os-release as sh reads it", async () => {
    const r = await runCli(["inspect", al9.paths.raw!, "--json"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const facts = JSON.parse(r.stdout);
    expect(facts).toMatchObject({
      path: al9.paths.raw,
      format: "raw",
      virtualSize: al9.diskBytes,
      partitionTable: "gpt",
      rootPartition: 4,
      rootFilesystem: "xfs",
      warnings: [],
    });
    const rows = sgdiskPartitions(al9.paths.raw!);
    expect(
      facts.partitions.map((p: { number: number; start: number; size: number; name: string }) => [
        p.number,
        p.start,
        p.size,
        p.name,
      ]),
    ).toEqual(
      rows.map((row) => [
        row.number,
        row.firstSector * 512,
        (row.lastSector - row.firstSector + 1) * 512,
        row.name,
      ]),
    );
    for (const p of facts.partitions) {
      const seen = p.number === 1 ? {} : blkid(al9.paths.raw!, p.start);
      expect([p.number, p.filesystem, p.root]).toEqual([p.number, seen.TYPE ?? "unknown", p.number === 4]);
      // labels and UUIDs of the filesystems the reader opens, and of the ESP's FAT
      if (p.filesystem === "xfs" || p.filesystem === "vfat") {
        expect([p.label, p.uuid]).toEqual([seen.LABEL, seen.UUID]);
      }
    }
    const keys = Object.keys(facts.osRelease);
    expect(keys).toEqual(expect.arrayContaining(["ID", "VERSION_ID", "PRETTY_NAME", "NAME"]));
    expect(facts.osRelease).toEqual(shellFields(al9.expected.osRelease!, keys));
  });

  it("human output: the partition table, a star on the root, os-release", async () => {
    const r = await runCli(["inspect", al8.paths["qcow2-zlib"]!]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("root:          partition 3 (xfs)");
    expect(lines.find((l) => /^\s+\*\s+3\s/.test(l))).toMatch(/xfs\s+yes\s+root\s+root$/);
    expect(lines.find((l) => l.startsWith("format:"))).toMatch(/^format:\s+qcow2 \(file size /);
    expect(lines).toContain("os-release:");
    expect(
      lines
        .find((l) => /^\s+VERSION_ID\s/.test(l))
        ?.trim()
        .split(/\s+/),
    ).toEqual(["VERSION_ID", "8.10"]);
  });

  it("--partition 3 (the /boot filesystem): no os-release there, said as a warning", async () => {
    const r = await runCli(["inspect", al9.paths.qcow2!, "--partition", "3", "--json"]);
    expect(r.code).toBe(0);
    const facts = JSON.parse(r.stdout);
    expect(facts).toMatchObject({ rootPartition: 3, rootFilesystem: "xfs", osRelease: {} });
    expect(facts.warnings).toEqual([
      "cannot read /etc/os-release: no such file or directory: /etc (in the image)",
    ]);
  });

  it("a bare filesystem image: no partition table, the whole disk is the root", async () => {
    const r = await runCli(["inspect", bare.paths.raw!, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      partitionTable: "none",
      partitions: [],
      rootPartition: null,
      rootFilesystem: "ext4",
    });
    const bad = await runCli(["inspect", bare.paths.raw!, "--partition", "1"]);
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toBe(
      `cloud-images: error: ${bare.paths.raw} has no partition table; --partition cannot be used\n`,
    );
  });
});

describe("ls", () => {
  it("a directory: the names debugfs lists, symlinks with their targets", async () => {
    const r = await runCli(["ls", `${bare.paths.raw}:/etc`, "--json"]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as {
      name: string;
      type: string;
      size: number;
      target?: string;
      mode: number;
    }[];
    const names = debugfs(bare.paths.raw!, "ls -p /etc")
      .split("\n")
      .map((l) => l.split("/"))
      .filter((f) => f.length >= 6 && f[5] !== "." && f[5] !== "..")
      .map((f) => f[5]!);
    expect(entries.map((e) => e.name)).toEqual(
      [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const link = entries.find((e) => e.name === "os-release")!;
    expect(link).toMatchObject({
      type: "symlink",
      target: "../usr/lib/os-release",
      size: "../usr/lib/os-release".length,
    });
    expect(debugfs(bare.paths.raw!, "stat /etc/os-release")).toContain(
      'Fast link dest: "../usr/lib/os-release"',
    );
    const file = entries.find((e) => e.name === "almalinux-release")!;
    expect(file).toMatchObject({
      type: "file",
      size: Buffer.byteLength(bare.expected.releaseFileContent!),
      mode: 0o644,
    });
  });

  it("a symlink is followed: its target is listed", async () => {
    const r = await runCli(["ls", `${bare.paths.raw}:/etc/os-release`, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([
      { name: "/usr/lib/os-release", type: "file", size: Buffer.byteLength(bare.expected.osRelease!) },
    ]);
    const human = await runCli(["ls", `${bare.paths.raw}:/etc`]);
    expect(human.stdout.split("\n").find((l) => l.includes("os-release"))).toMatch(
      /^lrwxrwxrwx\s+1\s+0\s+0\s+21\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+os-release -> \.\.\/usr\/lib\/os-release$/,
    );
  });

  it("the root directory by default, and --partition", async () => {
    const r = await runCli(["ls", al9.paths.qcow2!, "--json"]);
    expect(r.code).toBe(0);
    const names = JSON.parse(r.stdout).map((e: { name: string }) => e.name);
    expect(names).toEqual(expect.arrayContaining(["etc", "usr", "var", "bin", "lib"]));
    const boot = await runCli(["ls", `${al9.paths.qcow2}:/`, "--partition", "3", "--json"]);
    expect(boot.code).toBe(0);
    expect(JSON.parse(boot.stdout).map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(["grub2", "loader"]),
    );
  });
});

describe("cat", () => {
  it("prints the bytes that went in (text and a binary database, XFS in compressed qcow2 and ext4)", async () => {
    const text = await runCli(["cat", `${al9.paths["qcow2-zlib"]}:/etc/os-release`]);
    expect(text).toMatchObject({ code: 0, stderr: "", stdout: al9.expected.osRelease });
    for (const img of [al9, bare]) {
      const path = img.paths["qcow2-zlib"] ?? img.paths.raw!;
      const out = join(tmp, "db.out");
      execFileSync("sh", [
        "-c",
        'node "$1" cat "$2" > "$3"',
        "sh",
        "bin/cloud-images.js",
        `${path}:/var/lib/rpm/rpmdb.sqlite`,
        out,
      ]);
      expect(readFileSync(out).equals(readFileSync(join(img.rpmdbDir, "rpmdb.sqlite")))).toBe(true);
    }
  });

  it("--partition 3 reads /boot, compared with xfs_db on the extracted partition", async () => {
    const row = sgdiskPartitions(al9.paths.raw!).find((p) => p.number === 3)!;
    const part = join(tmp, "boot.img");
    extractRange(al9.paths.raw!, row.firstSector * 512, (row.lastSector - row.firstSector + 1) * 512, part);
    const r = await runCli(["cat", `${al9.paths.qcow2}:/grub2/grub.cfg`, "--partition", "3"]);
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout).equals(xfsReadFile(part, "/grub2/grub.cfg"))).toBe(true);
  });

  it("a path that does not exist: exit 1, one line", async () => {
    const r = await runCli(["cat", `${al9.paths.raw}:/etc/nope`]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe("cloud-images: error: no such file or directory: /etc/nope (in the image)\n");
    const dir = await runCli(["cat", `${al9.paths.raw}:/etc`]);
    expect(dir).toMatchObject({ code: 1, stderr: "cloud-images: error: not a regular file: /etc\n" });
  });

  it.each([
    [
      ["cat", "disk.img"],
      'cloud-images: error: expected IMAGE:PATH with an absolute PATH inside the image, got "disk.img" (e.g. disk.qcow2:/etc/os-release)\n',
    ],
    [
      ["cat", "disk.img:etc/os-release"],
      'cloud-images: error: expected IMAGE:PATH with an absolute PATH inside the image, got "disk.img:etc/os-release" (e.g. disk.qcow2:/etc/os-release)\n',
    ],
    [
      ["cat", "IMG:/etc/os-release", "--partition", "0"],
      'cloud-images: error: invalid partition number "0" (valid: 1-999)\n',
    ],
    [
      ["ls", "IMG:/etc", "--partition", "9"],
      "cloud-images: error: partition 9 does not exist in IMG (partitions: 1, 2, 3, 4)\n",
    ],
  ])("bad arguments %j: exit 2, one line", async (args, message) => {
    const r = await runCli(args.map((a) => a.replace("IMG", al9.paths.raw!)));
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe(message.replace("IMG", al9.paths.raw!));
  });

  it("an image file that does not exist: exit 2 (bad input, as everywhere), one line", async () => {
    const r = await runCli(["cat", `${join(tmp, "missing.qcow2")}:/etc/os-release`]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe(`cloud-images: error: cannot open ${join(tmp, "missing.qcow2")}: no such file\n`);
  });
});
