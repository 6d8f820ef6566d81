/**
 * Text an image controls, through the real CLI: names holding escape sequences, CR, BEL and bytes that
 * are not UTF-8 (two of them equal once decoded), an inode that cannot be read, a link target that
 * sets the terminal title, os-release values that clear the screen. `ls` and `inspect` print them
 * escaped (never a raw control byte), the escaped names address the files in `cat`, `--json` keeps
 * them exact. Then inspect on a qcow2 disk whose corrupt bit qemu set, with a dirty XFS, a FAT ESP
 * and that root: the clean state of each filesystem and the corrupt bit, in text and JSON; the ESP
 * read through --partition.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { xfsCleanImage } from "../fs/clean-images.js";
import { fatImage } from "../fs/fat/images.js";
import { cachedToolImage, loopMountUnavailable } from "../fs/loop-images.js";
import { runCli } from "../helpers/cli.js";

/** This file's source: a change to a builder rebuilds its cached image. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

const OS_RELEASE =
  'NAME="Evil\x1b[2J\x1b[31mOS"\nPRETTY_NAME="bell\x07 and cr\r here"\nID=almalinux\nVERSION_ID="9.6"\n';

/** Names in /names as bytes, the escaped form ls prints, and each file's content. */
const NAMES: readonly { bytes: Buffer; escaped: string; content: string }[] = [
  { bytes: Buffer.from("esc\x1b[2Jclear"), escaped: "esc\\x1b[2Jclear", content: "esc\n" },
  { bytes: Buffer.from("cr\rreturn"), escaped: "cr\\x0dreturn", content: "cr\n" },
  { bytes: Buffer.from("bel\x07"), escaped: "bel\\x07", content: "bel\n" },
  { bytes: Buffer.from([0x62, 0x61, 0x64, 0xff]), escaped: "bad\\xff", content: "ff\n" },
  { bytes: Buffer.from([0x62, 0x61, 0x64, 0xfe]), escaped: "bad\\xfe", content: "fe\n" },
  { bytes: Buffer.from("back\\slash"), escaped: "back\\\\slash", content: "backslash\n" },
  { bytes: Buffer.from("ok ünï.txt"), escaped: "ok ünï.txt", content: "ok\n" },
];
const LINK_TARGET = "\x1b]0;owned\x07";
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

function rootTree(dir: string): void {
  mkdirSync(join(dir, "etc"));
  writeFileSync(join(dir, "etc/os-release"), OS_RELEASE);
  const names = Buffer.from(join(dir, "names"));
  mkdirSync(names);
  for (const n of NAMES) writeFileSync(Buffer.concat([names, Buffer.from("/"), n.bytes]), n.content);
  writeFileSync(join(dir, "names/broken"), "lost\n");
  symlinkSync(LINK_TARGET, join(dir, "names/link"));
}

/** A bare ext4 root with the hostile tree; /names/broken's inode cleared with debugfs. */
function hostileRoot(): string {
  return cachedToolImage(
    "hostile",
    "ext4-root",
    { OS_RELEASE, NAMES: NAMES.map((n) => n.bytes.toString("hex")), LINK_TARGET },
    (img) => {
      const src = `${img}.src`;
      mkdirSync(src);
      rootTree(src);
      execFileSync("mkfs.ext4", ["-q", "-F", "-d", src, img, "16M"]);
      execFileSync("debugfs", ["-w", "-R", "clri /names/broken", img], { stdio: "pipe" });
      execFileSync("rm", ["-rf", src]);
      return null;
    },
  ).path;
}

describe("image text on the terminal", () => {
  let root: string;
  beforeAll(() => {
    root = hostileRoot();
  });

  it("ls prints every name escaped, marks the unreadable entry and exits 1", async () => {
    const r = await runCli(["ls", `${root}:/names`]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    for (const n of NAMES) expect(r.stdout).toContain(`  ${n.escaped}\n`);
    expect(r.stdout).toContain(`link -> \\x1b]0;owned\\x07`);
    expect(r.stdout).toMatch(/\?{10} .* broken {2}\(unreadable: ext4: inode \d+: unknown file type/);
    expect(r.stderr).toBe("cloud-images: warning: 1 entry could not be read\n");
  });

  it("cat reads each file by the name ls printed, even two names that decode alike", async () => {
    // A control sequence, the two names equal once decoded, a backslash (every name: test/fs/names.test.ts).
    for (const n of [NAMES[0]!, NAMES[3]!, NAMES[4]!, NAMES[5]!]) {
      const r = await runCli(["cat", `${root}:/names/${n.escaped}`]);
      expect(r, n.escaped).toMatchObject({ code: 0, stdout: n.content });
    }
  });

  it("--json keeps the exact text: JSON escapes, raw bytes in hex when not UTF-8", async () => {
    const r = await runCli(["ls", `${root}:/names`, "--json"]);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const entries = JSON.parse(r.stdout) as {
      name: string;
      rawName?: string;
      target?: string;
      error?: string;
    }[];
    for (const n of NAMES) {
      const utf8 = n.bytes.toString("utf8");
      const e = entries.find((x) => (x.rawName ? x.rawName === n.bytes.toString("hex") : x.name === utf8));
      expect(e, n.escaped).toBeDefined();
      expect(e!.rawName !== undefined).toBe(!Buffer.from(utf8).equals(n.bytes));
    }
    expect(entries.find((e) => e.name === "link")?.target).toBe(LINK_TARGET);
    expect(entries.find((e) => e.name === "broken")?.error).toMatch(/unknown file type/);
  });

  it("inspect escapes os-release values in text and keeps them exact in --json", async () => {
    const text = await runCli(["inspect", root]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expect(text.stdout).toContain("Evil\\x1b[2J\\x1b[31mOS");
    expect(text.stdout).toContain("bell\\x07 and cr\\x0d here");
    const json = JSON.parse((await runCli(["inspect", root, "--json"])).stdout);
    expect(json.osRelease.NAME).toBe("Evil\x1b[2J\x1b[31mOS");
    expect(json.rootClean).toEqual({ clean: true, detail: "clean (journal empty, no errors recorded)" });
  });

  it("error messages quoting the image are escaped too", async () => {
    const r = await runCli(["cat", `${root}:/names/link`]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(/^cloud-images: error: .*\\x1b\]0;owned\\x07/);
  });
});

const MiB = 1024 * 1024;

/** A GPT qcow2 disk: FAT ESP, an XFS left dirty by a shutdown, the hostile ext4 root; qemu marks it corrupt. */
function corruptDisk(root: string): string {
  const parts = [fatImage("fat16").path, xfsCleanImage("shutdown").path, root];
  return cachedToolImage(
    "hostile",
    "disk",
    { SOURCE, parts: parts.map((p) => p.split("/").at(-2)) },
    (img) => {
      const raw = `${img}.raw`;
      const sizes = parts.map((p) => Math.ceil(readFileSync(p).length / MiB));
      const total = 1 + sizes.reduce((a, b) => a + b, 0) + 4; // room for the backup GPT and a free area
      execFileSync("truncate", ["-s", `${total}M`, raw]);
      const args = ["-o"];
      let start = 1;
      sizes.forEach((size, i) => {
        args.push("-n", `${i + 1}:${start * 2048}:+${size}M`, "-t", `${i + 1}:${i === 0 ? "ef00" : "8300"}`);
        start += size;
      });
      execFileSync("sgdisk", [...args, raw], { stdio: "pipe" });
      start = 1;
      parts.forEach((p, i) => {
        const fd = openSync(raw, "r+");
        writeSync(fd, readFileSync(p), 0, undefined, start * MiB);
        closeSync(fd);
        start += sizes[i]!;
      });
      execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, img]);
      execFileSync("rm", ["-f", raw]);
      // qemu's own corruption check: a guest cluster in the free area, its L2 entry pointed at the
      // L1 table, then written through qemu-io, which refuses the write and sets the corrupt bit.
      const guest = (total - 2) * MiB;
      execFileSync("qemu-io", ["-c", `write -P 0x2a ${guest} 512`, img], { stdio: "pipe" });
      const q = readFileSync(img);
      const clusterSize = 2 ** q.readUInt32BE(20);
      const l1 = Number(q.readBigUInt64BE(40));
      const index = Math.floor(guest / clusterSize);
      const perL2 = clusterSize / 8;
      const l2 = Number(q.readBigUInt64BE(l1 + 8 * Math.floor(index / perL2)) & 0x00fffffffffffe00n);
      const entry = Buffer.alloc(8);
      entry.writeBigUInt64BE(0x8000000000000000n | BigInt(l1));
      const fd = openSync(img, "r+");
      writeSync(fd, entry, 0, 8, l2 + 8 * (index % perL2));
      closeSync(fd);
      try {
        execFileSync("qemu-io", ["-c", `write -P 0x2a ${guest} 512`, img], { stdio: "pipe" });
      } catch {
        // expected: "Input/output error" after qemu marks the image corrupt
      }
      return null;
    },
  ).path;
}

describe("inspect: clean states and the qcow2 corrupt bit", () => {
  const unavailable = loopMountUnavailable(["qemu-io", "sgdisk"]);

  it("reports each filesystem's clean state and the corrupt bit that qemu-img info shows", async (ctx) => {
    if (unavailable) return ctx.skip();
    const disk = corruptDisk(hostileRoot());
    expect(execFileSync("qemu-img", ["info", disk], { encoding: "utf8" })).toMatch(/corrupt: true/);
    const json = JSON.parse((await runCli(["inspect", disk, "--json"])).stdout);
    expect(json.qcow2).toMatchObject({ version: 3, corrupt: true });
    expect(json.rootPartition).toBe(3);
    const clean = Object.fromEntries(
      (json.partitions as { number: number; clean: { clean: boolean } }[]).map((p) => [
        p.number,
        p.clean.clean,
      ]),
    );
    expect(clean).toEqual({ 1: true, 2: false, 3: true });
    expect(json.partitions[1].clean.detail).toMatch(/log not clean/);

    const text = await runCli(["inspect", disk]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/qcow2: +v3, CORRUPT bit set/);
    expect(text.stdout).toMatch(/ 2 .* xfs +NO\b/);
    expect(text.stdout).toMatch(/partition 2: log not clean/);
    expect(text.stdout).not.toMatch(RAW_CONTROL);

    // The ESP reads like any partition, names matched without regard to case.
    const esp = await runCli(["ls", "--partition", "1", `${disk}:/efi`]);
    expect(esp.code).toBe(0);
    expect(esp.stdout).toMatch(/ BOOT\n/);
    expect(esp.stdout).toMatch(/ almalinux\n/);
    const grub = await runCli(["cat", "--partition", "1", `${disk}:/EFI/almalinux/grub.cfg`]);
    expect(grub.stdout).toMatch(/^search --fs-uuid/);
  });
});
