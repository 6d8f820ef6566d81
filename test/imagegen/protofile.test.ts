// The protofile generator, judged by what mkfs.xfs makes of it (read back with xfs_db).
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protofile } from "../../imagegen/protofile.js";
import { UsageError } from "../../src/errors.js";
import { sh, tempDir, xfsInode, xfsLs, xfsReadFile, xfsSymlink } from "./oracles.js";

let tmp: string;
let tree: string;
let img: string;
const BINARY = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) % 256));

beforeAll(() => {
  tmp = tempDir("proto");
  tree = join(tmp, "tree");
  mkdirSync(join(tree, "etc/empty"), { recursive: true });
  mkdirSync(join(tree, "srv/shared"), { recursive: true });
  writeFileSync(join(tree, "etc/hello.txt"), "hello\n");
  writeFileSync(join(tree, "etc/secret"), "x");
  chmodSync(join(tree, "etc/secret"), 0o600);
  writeFileSync(join(tree, "passwd-tool"), "#!/bin/sh\n");
  chmodSync(join(tree, "passwd-tool"), 0o4755);
  chmodSync(join(tree, "srv/shared"), 0o2775);
  chmodSync(join(tree, "etc/empty"), 0o700);
  writeFileSync(join(tree, "srv/blob.bin"), BINARY);
  writeFileSync(join(tree, "srv/zero-length"), "");
  symlinkSync("hello.txt", join(tree, "etc/rel-link"));
  symlinkSync("/etc/hello.txt", join(tree, "abs-link"));
  for (let i = 0; i < 200; i++) writeFileSync(join(tree, `srv/shared/f${i}`), `${i}\n`);
  writeFileSync(join(tmp, "fs.proto"), protofile(tree));
  img = join(tmp, "fs.img");
  const fd = openSync(img, "w");
  ftruncateSync(fd, 512 * 1024 * 1024);
  closeSync(fd);
  sh("mkfs.xfs", ["-q", "-f", "-p", join(tmp, "fs.proto"), img]);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("protofile", () => {
  it("is in mkfs.xfs's format: root line, indented entries, $ closing each directory", () => {
    const small = join(tmp, "small");
    mkdirSync(join(small, "d"), { recursive: true });
    writeFileSync(join(small, "d/f"), "1");
    chmodSync(join(small, "d/f"), 0o640);
    symlinkSync("d/f", join(small, "l"));
    chmodSync(small, 0o755);
    chmodSync(join(small, "d"), 0o755);
    expect(protofile(small)).toBe(
      [
        "imagegen",
        "0 0",
        "d--755 0 0",
        " d d--755 0 0",
        `  f ---640 0 0 ${small}/d/f`,
        " $",
        " l l--777 0 0 d/f",
        "$",
        "",
      ].join("\n"),
    );
  });

  it("gives mkfs.xfs the files with their contents", () => {
    expect(xfsReadFile(img, "/etc/hello.txt").toString()).toBe("hello\n");
    expect(xfsReadFile(img, "/srv/blob.bin").equals(BINARY)).toBe(true);
    expect(xfsInode(img, "/srv/zero-length", "core.size")["core.size"]).toBe("0");
    expect(xfsLs(img, "/srv/shared").length).toBe(200);
  });

  it("keeps modes, setuid and setgid", () => {
    expect(xfsInode(img, "/etc/secret", "core.mode")["core.mode"]).toBe("0100600");
    expect(xfsInode(img, "/passwd-tool", "core.mode")["core.mode"]).toBe("0104755");
    expect(xfsInode(img, "/srv/shared", "core.mode")["core.mode"]).toBe("042775");
    expect(xfsInode(img, "/etc/empty", "core.mode")["core.mode"]).toBe("040700");
  });

  it("keeps relative and absolute symlink targets", () => {
    expect(xfsSymlink(img, "/etc/rel-link")).toBe("hello.txt");
    expect(xfsSymlink(img, "/abs-link")).toBe("/etc/hello.txt");
  });

  it("refuses symlink targets mkfs.xfs 6.1 would write as corrupt remote symlinks", () => {
    const bad = join(tmp, "long");
    mkdirSync(bad, { recursive: true });
    symlinkSync("x".repeat(321), join(bad, "l"));
    expect(() => protofile(bad)).toThrow(/321-byte target \(valid: at most 320 on XFS\)/);
  });

  it("refuses names the format cannot carry", () => {
    const bad = join(tmp, "bad");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "a b"), "");
    expect(() => protofile(bad)).toThrow(UsageError);
    expect(() => protofile(bad)).toThrow(/file name "a b" cannot go into an XFS protofile/);
  });
});
